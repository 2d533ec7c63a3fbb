// #/messages: the message log with filters (kept in the address, so Back returns to them) and cursor paging.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorAlert } from '../components/ErrorAlert';
import { Time } from '../components/Time';
import { fromLocalInput, toLocalInput } from '../format';
import { useLoad } from '../hooks';
import { href, navigate, paths } from '../router';
import type { DeliveryStatus } from '../types';
import { ScrollTable } from '../components/ScrollTable';

const STATUSES: DeliveryStatus[] = ['pending', 'succeeded', 'failed', 'refused', 'cancelled'];

// Address parameters -> API filter parameters; `page` holds the API's `links.next` of the page shown.
const FILTERS = { event_type: 'filter[event_type]', status: 'filter[status]', after: 'filter[after]', before: 'filter[before]' } as const;

function localValue(iso: string | null): string {
  const date = iso ? new Date(iso) : null;
  return date && !Number.isNaN(date.getTime()) ? toLocalInput(date) : '';
}

export function MessageList({ query }: { query: string }) {
  const params = new URLSearchParams(query);
  const page = params.get('page') ?? undefined;
  const [eventType, setEventType] = useState(params.get('event_type') ?? '');
  const [status, setStatus] = useState(params.get('status') ?? '');
  const [from, setFrom] = useState(localValue(params.get('after')));
  const [to, setTo] = useState(localValue(params.get('before')));

  const catalog = useLoad(() => api.eventTypes().then((document) => document.data), []);
  const messages = useLoad(() => {
    const filters = Object.fromEntries(Object.entries(FILTERS).map(([name, filter]) => [filter, params.get(name) ?? undefined]));
    return api.messages(filters, page);
  }, [query]);

  const withParams = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    const text = next.toString();
    navigate(text ? `${paths.messages}?${text}` : paths.messages);
  };

  const apply = (event: Event) => {
    event.preventDefault();
    withParams({ event_type: eventType, status, after: fromLocalInput(from), before: fromLocalInput(to), page: undefined });
  };

  const nextLink = messages.data?.links?.next;
  return (
    <>
      <h1>Messages</h1>
      <form class="filters" onSubmit={apply}>
        <div class="field">
          <label for="filter-event-type">Event type</label>
          <select id="filter-event-type" value={eventType} onChange={(event) => setEventType(event.currentTarget.value)}>
            <option value="">All</option>
            {(catalog.data ?? []).map((type) => (
              <option key={type.id} value={type.id}>
                {type.attributes.name}
              </option>
            ))}
            {eventType && !catalog.data?.some((type) => type.id === eventType) && <option value={eventType}>{eventType}</option>}
          </select>
        </div>
        <div class="field">
          <label for="filter-status">Status</label>
          <select id="filter-status" value={status} onChange={(event) => setStatus(event.currentTarget.value)}>
            <option value="">All</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-from">From</label>
          <input id="filter-from" type="datetime-local" value={from} onInput={(event) => setFrom(event.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="filter-to">To</label>
          <input id="filter-to" type="datetime-local" value={to} onInput={(event) => setTo(event.currentTarget.value)} />
        </div>
        <div class="field field-button">
          <button type="submit" class="button primary">
            Apply filters
          </button>
        </div>
      </form>
      <ErrorAlert error={catalog.error ?? messages.error} />
      {messages.loading && <p aria-live="polite">Loading messages…</p>}
      {messages.data && messages.data.data.length === 0 && <p class="empty">No messages match these filters</p>}
      {messages.data && messages.data.data.length > 0 && (
        <ScrollTable label="Messages" columns={['Message', 'Event type', 'Created', 'Webhooks matched']}>
              {messages.data.data.map((message) => (
                <tr key={message.id}>
                  <td>
                    <a class="mono" href={href(paths.message(message.id))}>
                      {message.id}
                    </a>
                  </td>
                  <td>{message.attributes.event_type}</td>
                  <td>
                    <Time iso={message.attributes.created_at} />
                  </td>
                  <td class="num">{message.attributes.matched}</td>
                </tr>
              ))}
            </ScrollTable>
      )}
      <div class="actions pager">
        {page && (
          <button type="button" class="button" onClick={() => withParams({ page: undefined })}>
            First page
          </button>
        )}
        {nextLink && (
          <button type="button" class="button" onClick={() => withParams({ page: nextLink })}>
            Next page
          </button>
        )}
      </div>
    </>
  );
}
