// #/webhooks/new and #/webhooks/{id}/edit: the webhook form, with the catalog's event picker and 422s shown by field.
import { useMemo, useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import { ErrorAlert } from '../components/ErrorAlert';
import { prettyJson } from '../format';
import { toApiError, useLoad } from '../hooks';
import { navigate, paths } from '../router';
import type { EventType, Filters, SignatureAlgo, Subscription, Webhook, WebhookInput } from '../types';

type Field = 'url' | 'name' | 'events' | 'filter' | 'headers' | 'signature_algo' | 'retry_schedule' | 'rate_limit';
type FieldErrors = Partial<Record<Field, string[]>>;

interface HeaderRow {
  key: number;
  name: string;
  value: string;
}

const ALGORITHMS: Array<[SignatureAlgo, string]> = [
  ['hmac', 'HMAC-SHA256 (Standard Webhooks v1)'],
  ['ed25519', 'Ed25519 (Standard Webhooks v1a)'],
  ['jwt', 'JWT (HS256)'],
];

const WILDCARD = '*';

/** Which field a JSON:API error pointer such as `/data/attributes/events/0/filters` names. */
function fieldOf(pointer: string | undefined): Field | null {
  const match = /^\/data\/attributes\/([^/]+)(\/\d+\/filters)?/.exec(pointer ?? '');
  if (!match) return null;
  if (match[1] === 'events') return match[2] ? 'filter' : 'events';
  const fields: Field[] = ['url', 'name', 'headers', 'signature_algo', 'retry_schedule', 'rate_limit'];
  return fields.includes(match[1] as Field) ? (match[1] as Field) : null;
}

function subscriptionName(subscription: Subscription): string {
  return typeof subscription === 'string' ? subscription : subscription.event_type;
}

function subscriptionFilters(subscription: Subscription): Filters | null {
  return typeof subscription === 'string' ? null : (subscription.filters ?? null);
}

function parseFilter(text: string): Filters | null {
  if (!text.trim()) return null;
  const value: unknown = JSON.parse(text);
  if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every(Array.isArray)) {
    throw new Error('not an object of lists');
  }
  return Object.keys(value).length ? (value as Filters) : null;
}

function parseSchedule(text: string): number[] | null {
  if (!text.trim()) return null;
  return text.split(',').map((part) => {
    const trimmed = part.trim();
    if (!/^\d+$/.test(trimmed)) throw new Error(trimmed);
    return Number(trimmed);
  });
}

function groupTypes(types: EventType[]): Array<[string, EventType[]]> {
  const groups = new Map<string, EventType[]>();
  for (const type of [...types].sort((a, b) => a.id.localeCompare(b.id))) {
    const group = type.attributes.group || '';
    groups.set(group, [...(groups.get(group) ?? []), type]);
  }
  return [...groups.entries()].sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)));
}

/** A text field for numbers, with its hint and the errors of its attribute. */
function NumericField(props: {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  placeholder: string;
  hint: string;
  field: Field;
  errors: string[] | undefined;
  describedBy: (field: Field, hint?: string) => string | undefined;
}) {
  const hintId = `${props.id}-hint`;
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="text"
        inputMode="numeric"
        value={props.value}
        onInput={(event) => props.onInput(event.currentTarget.value)}
        aria-invalid={props.errors ? true : undefined}
        aria-describedby={props.describedBy(props.field, hintId)}
        placeholder={props.placeholder}
      />
      <p id={hintId} class="hint">
        {props.hint}
      </p>
      <FieldError id={`${props.field}-error`} errors={props.errors} />
    </div>
  );
}

function FieldError({ id, errors }: { id: string; errors: string[] | undefined }) {
  if (!errors?.length) return null;
  return (
    <p id={id} class="field-error">
      {errors.join(' ')}
    </p>
  );
}

function EventTypeOption({ type, checked, onToggle, disabled }: { type: EventType; checked: boolean; onToggle: () => void; disabled: boolean }) {
  const id = `event-${type.id}`;
  const { description, schema, example, deprecated } = type.attributes;
  return (
    <li class="event-type">
      <div class="check">
        <input type="checkbox" id={id} checked={checked} disabled={disabled} onChange={onToggle} aria-describedby={`${id}-description`} />
        <label for={id}>{type.attributes.name}</label>
        {deprecated && <span class="badge">deprecated</span>}
      </div>
      <p id={`${id}-description`} class="muted">
        {description}
      </p>
      <details>
        <summary>Schema and example</summary>
        <h3 class="small-heading">Schema</h3>
        <pre class="code" tabIndex={0}>{schema == null ? 'None: any JSON object' : prettyJson(schema)}</pre>
        <h3 class="small-heading">Example</h3>
        <pre class="code" tabIndex={0}>{example == null ? 'None' : prettyJson(example)}</pre>
      </details>
    </li>
  );
}

function Form({ catalog, webhook }: { catalog: EventType[]; webhook: Webhook | null }) {
  const initial = webhook?.attributes;
  const initialFilters = (initial?.events ?? []).map(subscriptionFilters);
  const distinctFilters = new Set(initialFilters.map((filters) => JSON.stringify(filters)));
  const firstFilter = initialFilters.find((filters) => filters !== null) ?? null;

  const [url, setUrl] = useState(initial?.url ?? '');
  const [name, setName] = useState(initial?.name ?? '');
  const [selected, setSelected] = useState(() => new Set((initial?.events ?? []).map(subscriptionName)));
  const [filterText, setFilterText] = useState(firstFilter ? prettyJson(firstFilter) : '');
  const [eventsTouched, setEventsTouched] = useState(false);
  const [headers, setHeaders] = useState<HeaderRow[]>(() =>
    Object.entries(initial?.headers ?? {}).map(([headerName, value], key) => ({ key, name: headerName, value })),
  );
  const [nextKey, setNextKey] = useState(1000);
  const [algo, setAlgo] = useState<SignatureAlgo>(initial?.signature_algo ?? 'hmac');
  const [schedule, setSchedule] = useState(initial?.retry_schedule?.join(', ') ?? '');
  const [rate, setRate] = useState(initial?.rate_limit ? String(initial.rate_limit) : '');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [alert, setAlert] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const groups = useMemo(() => groupTypes(catalog), [catalog]);
  const known = new Set(catalog.map((type) => type.id));
  const unknownSelected = [...selected].filter((type) => type !== WILDCARD && !known.has(type));

  const toggle = (type: string) => {
    const next = new Set(selected);
    if (next.has(type)) next.delete(type);
    else next.add(type);
    setSelected(next);
    setEventsTouched(true);
  };

  const fail = (fieldErrors: FieldErrors, error: ApiError) => {
    setErrors(fieldErrors);
    setAlert(error);
    setBusy(false);
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    const local: FieldErrors = {};
    let filters: Filters | null = null;
    let retry: number[] | null = null;
    try {
      filters = parseFilter(filterText);
    } catch {
      local.filter = ['Write a JSON object of dotted payload paths to lists of values, e.g. {"status": ["open"]}.'];
    }
    try {
      retry = parseSchedule(schedule);
    } catch {
      local.retry_schedule = ['Write whole seconds separated by commas, e.g. 5, 300, 1800.'];
    }
    const rateLimit = rate.trim() ? Number(rate.trim()) : null;
    if (rateLimit !== null && !(Number.isInteger(rateLimit) && rateLimit >= 1 && rateLimit <= 1000)) {
      local.rate_limit = ['Write a whole number of deliveries a second, from 1 to 1000, or leave it empty.'];
    }
    if (headers.some((row) => !row.name.trim() && row.value.trim())) local.headers = ['Every header needs a name.'];
    if (Object.keys(local).length) {
      const messages = Object.values(local).flat();
      fail(local, new ApiError(422, messages.map((detail) => ({ status: '422', title: 'Invalid value', detail }))));
      return;
    }

    const attributes: WebhookInput = {
      url: url.trim(),
      name: name.trim(),
      headers: Object.fromEntries(headers.filter((row) => row.name.trim()).map((row) => [row.name.trim(), row.value])),
      retry_schedule: retry,
      rate_limit: rateLimit,
    };
    // An untouched edit leaves each subscription's own filters as they are.
    if (!webhook || eventsTouched || filterText !== (firstFilter ? prettyJson(firstFilter) : '')) {
      attributes.events = [...selected].map((type) => (filters ? { event_type: type, filters } : type));
    }
    // Sent only when chosen or changed: a new algorithm means a new signing key.
    if (!webhook || algo !== initial?.signature_algo) attributes.signature_algo = algo;
    if (!webhook && retry === null) delete attributes.retry_schedule;
    if (!webhook && rateLimit === null) delete attributes.rate_limit;

    setBusy(true);
    try {
      const saved = webhook ? await api.updateWebhook(webhook.id, attributes) : await api.createWebhook(attributes);
      navigate(paths.webhook(saved.data.id));
    } catch (error) {
      const apiError = toApiError(error);
      const byField: FieldErrors = {};
      for (const item of apiError.errors) {
        const field = fieldOf(item.source?.pointer);
        if (field) byField[field] = [...(byField[field] ?? []), item.detail || item.title];
      }
      fail(byField, apiError);
    }
  };

  const describedBy = (field: Field, hint?: string) =>
    [hint, errors[field]?.length ? `${field}-error` : undefined].filter(Boolean).join(' ') || undefined;

  return (
    <form onSubmit={submit} noValidate class="form">
      <ErrorAlert error={alert} />
      <div class="field">
        <label for="url">URL</label>
        <input
          id="url"
          type="url"
          required
          value={url}
          onInput={(event) => setUrl(event.currentTarget.value)}
          aria-invalid={errors.url ? true : undefined}
          aria-describedby={describedBy('url')}
          placeholder="https://example.com/webhooks"
        />
        <FieldError id="url-error" errors={errors.url} />
      </div>
      <div class="field">
        <label for="description">Description</label>
        <input
          id="description"
          type="text"
          value={name}
          onInput={(event) => setName(event.currentTarget.value)}
          aria-invalid={errors.name ? true : undefined}
          aria-describedby={describedBy('name')}
        />
        <FieldError id="name-error" errors={errors.name} />
      </div>

      <fieldset class="events" aria-describedby={describedBy('events')}>
        <legend>Event types</legend>
        <FieldError id="events-error" errors={errors.events} />
        {(selected.has(WILDCARD) || unknownSelected.length > 0) && (
          <ul class="event-list">
            {selected.has(WILDCARD) && (
              <li class="check">
                <input type="checkbox" id="event-wildcard" checked onChange={() => toggle(WILDCARD)} />
                <label for="event-wildcard">{WILDCARD}</label>
                <span class="muted">every event type</span>
              </li>
            )}
            {unknownSelected.map((type) => (
              <li class="check" key={type}>
                <input type="checkbox" id={`event-unknown-${type}`} checked onChange={() => toggle(type)} />
                <label for={`event-unknown-${type}`}>{type}</label>
                <span class="muted">no longer in the catalog</span>
              </li>
            ))}
          </ul>
        )}
        {groups.map(([group, types]) => (
          <div class="event-group" key={group} role="group" aria-labelledby={`group-${group || 'other'}`}>
            <h2 id={`group-${group || 'other'}`} class="group-heading">
              {group || 'Other'}
            </h2>
            <ul class="event-list">
              {types.map((type) => (
                <EventTypeOption
                  key={type.id}
                  type={type}
                  checked={selected.has(type.id)}
                  disabled={type.attributes.deprecated && !selected.has(type.id)}
                  onToggle={() => toggle(type.id)}
                />
              ))}
            </ul>
          </div>
        ))}
      </fieldset>

      <div class="field">
        <label for="filter">Payload filter</label>
        <textarea
          id="filter"
          rows={4}
          class="mono"
          value={filterText}
          onInput={(event) => setFilterText(event.currentTarget.value)}
          aria-invalid={errors.filter ? true : undefined}
          aria-describedby={describedBy('filter', 'filter-hint')}
          placeholder='{"status": ["open", "paid"]}'
        />
        <p id="filter-hint" class="hint">
          JSON: a dotted payload path to the values it may have. Applies to every selected event type; leave empty to
          receive every event.
          {distinctFilters.size > 1 && ' This webhook’s event types have different filters now; saving a change applies this one to all.'}
        </p>
        <FieldError id="filter-error" errors={errors.filter} />
      </div>

      <fieldset class="headers" aria-describedby={describedBy('headers', 'headers-hint')}>
        <legend>Custom headers</legend>
        <p id="headers-hint" class="hint">
          Sent with every delivery.
        </p>
        {headers.map((row, index) => (
          <div class="header-row" key={row.key}>
            <div class="field">
              <label for={`header-name-${row.key}`}>Header name</label>
              <input
                id={`header-name-${row.key}`}
                type="text"
                value={row.name}
                autocomplete="off"
                onInput={(event) => {
                  const value = event.currentTarget.value;
                  setHeaders(headers.map((other, i) => (i === index ? { ...other, name: value } : other)));
                }}
              />
            </div>
            <div class="field">
              <label for={`header-value-${row.key}`}>Header value</label>
              <input
                id={`header-value-${row.key}`}
                type="text"
                value={row.value}
                autocomplete="off"
                onInput={(event) => {
                  const value = event.currentTarget.value;
                  setHeaders(headers.map((other, i) => (i === index ? { ...other, value } : other)));
                }}
              />
            </div>
            <button type="button" class="button" onClick={() => setHeaders(headers.filter((_, i) => i !== index))}>
              Remove<span class="visually-hidden"> header {row.name || index + 1}</span>
            </button>
          </div>
        ))}
        <button
          type="button"
          class="button"
          onClick={() => {
            setHeaders([...headers, { key: nextKey, name: '', value: '' }]);
            setNextKey(nextKey + 1);
          }}
        >
          Add header
        </button>
        <FieldError id="headers-error" errors={errors.headers} />
      </fieldset>

      <div class="field">
        <label for="signature-algo">Signature algorithm</label>
        <select
          id="signature-algo"
          value={algo}
          onChange={(event) => setAlgo(event.currentTarget.value as SignatureAlgo)}
          aria-invalid={errors.signature_algo ? true : undefined}
          aria-describedby={describedBy('signature_algo', webhook ? 'algo-hint' : undefined)}
        >
          {ALGORITHMS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        {webhook && (
          <p id="algo-hint" class="hint">
            Changing it gives the webhook a new signing key.
          </p>
        )}
        <FieldError id="signature_algo-error" errors={errors.signature_algo} />
      </div>

      <NumericField
        id="retry-schedule"
        label="Retry schedule"
        value={schedule}
        onInput={setSchedule}
        placeholder="5, 300, 1800, 7200, 18000, 36000, 36000"
        hint="Seconds to wait after each failed try, comma-separated. Empty: the default (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h)."
        field="retry_schedule"
        errors={errors.retry_schedule}
        describedBy={describedBy}
      />

      <NumericField
        id="rate-limit"
        label="Rate limit"
        value={rate}
        onInput={setRate}
        placeholder="no limit"
        hint="At most this many deliveries a second (1 to 1000); more wait their turn, none is dropped. Empty: no limit."
        field="rate_limit"
        errors={errors.rate_limit}
        describedBy={describedBy}
      />

      <div class="actions">
        <button type="submit" class="button primary" disabled={busy}>
          {webhook ? 'Save changes' : 'Create webhook'}
        </button>
      </div>
    </form>
  );
}

export function WebhookForm({ id }: { id?: string }) {
  const loaded = useLoad(
    () => Promise.all([api.eventTypes(), id ? api.webhook(id) : Promise.resolve(null)]),
    [id],
  );
  return (
    <>
      <h1>{id ? 'Edit webhook' : 'New webhook'}</h1>
      {!loaded.data && <ErrorAlert error={loaded.error} />}
      {loaded.loading && !loaded.data && <p aria-live="polite">Loading…</p>}
      {loaded.data && <Form catalog={loaded.data[0].data} webhook={loaded.data[1]?.data ?? null} />}
    </>
  );
}
