// The alert that shows an API error's detail (or title), one line per error object.
import type { ApiError } from '../api';

export function ErrorAlert({ error, id }: { error: Pick<ApiError, 'errors'> | undefined | null; id?: string }) {
  if (!error) return null;
  return (
    <div id={id} role="alert" class="alert">
      {error.errors.map((item, index) => (
        <p key={index}>{item.detail || item.title}</p>
      ))}
    </div>
  );
}
