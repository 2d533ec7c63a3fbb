// A date from the API: the user's local time as text, the ISO value in datetime and title.
import { formatDate } from '../format';

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span>—</span>;
  return (
    <time dateTime={iso} title={iso}>
      {formatDate(iso)}
    </time>
  );
}
