// useLoad: one API read with its loading state, error and a reload, dropping answers that arrive too late.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
  setData: (data: T) => void;
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, [{ status: '0', title: 'Unexpected error', detail: String(error) }]);
}

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const current = ++generation.current;
    setState((previous) => ({ data: previous.data, loading: true }));
    load().then(
      (data) => current === generation.current && setState({ data, loading: false }),
      (error: unknown) => current === generation.current && setState({ error: toApiError(error), loading: false }),
    );
  }, deps);
  useEffect(run, [run]);
  return {
    data: state.data,
    error: state.error,
    loading: state.loading,
    reload: run,
    setData: (data: T) => setState({ data, loading: false }),
  };
}
