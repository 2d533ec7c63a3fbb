// An attempt's or a delivery's outcome as readable text.
import type { AttemptStatus, DeliveryStatus } from '../types';

const ATTEMPT: Record<AttemptStatus, string> = {
  success: 'success',
  http_error: 'HTTP error',
  timeout: 'timeout',
  connection_error: 'connection error',
  refused: 'refused (forbidden address)',
  transformation_error: 'transformation error',
};

export function AttemptOutcome({ status }: { status: AttemptStatus }) {
  return <span class={`outcome outcome-${status}`}>{ATTEMPT[status] ?? status}</span>;
}

/** Deliveries the retry and recover routes send again. */
export const isRetriable = (status: DeliveryStatus) => status === 'failed' || status === 'refused' || status === 'cancelled';
