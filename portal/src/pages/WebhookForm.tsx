// #/webhooks/new and #/webhooks/{id}/edit: the webhook form, with the catalog's event picker and 422s shown by field.
import type { ComponentChildren } from 'preact';
import { useContext, useMemo, useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import { ErrorAlert } from '../components/ErrorAlert';
import { prettyJson } from '../format';
import { toApiError, useLoad } from '../hooks';
import { navigate, paths } from '../router';
import { SessionContext } from '../session';
import type { EventType, Filters, Ordering, SignatureAlgo, Subscription, TransformationTestAttributes, Webhook, WebhookInput } from '../types';

type Field = 'url' | 'name' | 'events' | 'filter' | 'headers' | 'signature_algo' | 'retry_schedule' | 'rate_limit' | 'ordering' | 'transformation';
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

const ORDERINGS: Array<[Ordering, string]> = [
  ['none', 'As soon as possible (none)'],
  ['fifo', 'In order, one at a time (fifo)'],
];

const WILDCARD = '*';

/** The API's limit on a transformation, in UTF-8 bytes. */
const MAX_TRANSFORMATION_BYTES = 16384;

/** Which field a JSON:API error pointer such as `/data/attributes/events/0/filters` names. */
function fieldOf(pointer: string | undefined): Field | null {
  const match = /^\/data\/attributes\/([^/]+)(\/\d+\/filters)?/.exec(pointer ?? '');
  if (!match) return null;
  if (match[1] === 'events') return match[2] ? 'filter' : 'events';
  const fields: Field[] = ['url', 'name', 'headers', 'signature_algo', 'retry_schedule', 'rate_limit', 'ordering', 'transformation'];
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

/**
 * A text field with its hint and its errors (shown under it as `#{errorId}`): a one-line input
 * for numbers, or with `rows` a monospace textarea (JSON, jq).
 */
function TextField(props: {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  placeholder: string;
  hint: ComponentChildren;
  errorId: string;
  errors: string[] | undefined;
  rows?: number;
}) {
  const hintId = `${props.id}-hint`;
  const common = {
    id: props.id,
    value: props.value,
    onInput: (event: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) => props.onInput(event.currentTarget.value),
    'aria-invalid': props.errors?.length ? true : undefined,
    'aria-describedby': [hintId, props.errors?.length ? props.errorId : undefined].filter(Boolean).join(' '),
    placeholder: props.placeholder,
  };
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.rows ? (
        <textarea {...common} rows={props.rows} class="mono" spellcheck={false} />
      ) : (
        <input {...common} type="text" inputMode="numeric" />
      )}
      <p id={hintId} class="hint">
        {props.hint}
      </p>
      <FieldError id={props.errorId} errors={props.errors} />
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

/** What a transformation's output sends: its extra headers (`Name: value`), a blank line, then the body as JSON. */
function outputText(result: TransformationTestAttributes): string {
  const headerLines = Object.entries(result.headers ?? {}).map(([headerName, value]) => `${headerName}: ${value}`);
  return [...headerLines, ...(headerLines.length ? [''] : []), prettyJson(result.body)].join('\n');
}

/** The event type whose example the test route uses without a sample: the webhook's first subscribed type in the catalog. */
function firstCatalogType(webhook: Webhook, catalog: EventType[]): EventType | undefined {
  for (const subscription of webhook.attributes.events) {
    const type = catalog.find((each) => each.id === subscriptionName(subscription));
    if (type) return type;
  }
  return undefined;
}

type Problem = Pick<ApiError, 'errors'>;
const problem = (detail: string): Problem => ({ errors: [{ status: '422', title: 'Invalid value', detail }] });

/** The edit form's "Test transformation" panel: runs the program being edited on a sample event, saving nothing. */
function TransformationTest({ webhook, catalog, program }: { webhook: Webhook; catalog: EventType[]; program: string }) {
  const readOnly = useContext(SessionContext).read_only;
  const [sample, setSample] = useState('');
  const [sampleErrors, setSampleErrors] = useState<string[] | undefined>(undefined);
  const [result, setResult] = useState<TransformationTestAttributes | null>(null);
  const [error, setError] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const type = useMemo(() => firstCatalogType(webhook, catalog), [webhook, catalog]);
  const example = type?.attributes.example;

  const run = async () => {
    setResult(null);
    setError(null);
    setSampleErrors(undefined);
    if (!program.trim()) {
      setError(problem('Write a program in “Transformation (jq)” to test it.'));
      return;
    }
    let payload: Record<string, unknown> | undefined;
    if (sample.trim()) {
      let message: string | undefined;
      try {
        const value: unknown = JSON.parse(sample);
        if (value && typeof value === 'object' && !Array.isArray(value)) payload = value as Record<string, unknown>;
        else message = 'The sample payload must be a JSON object, e.g. {"invoice": "inv-1"}.';
      } catch (caught) {
        message = `The sample payload is not valid JSON: ${caught instanceof Error ? caught.message : String(caught)}`;
      }
      if (message) {
        setSampleErrors([message]);
        setError(problem(message));
        return;
      }
    }
    setBusy(true);
    try {
      const answer = (await api.testTransformation(webhook.id, { transformation: program, ...(payload ? { payload } : {}) })).data.attributes;
      setResult(answer);
      if (answer.status !== 'ok') {
        setError({ errors: [{ status: '200', title: 'The program failed on this event', detail: `The program failed on this event: ${answer.error ?? 'no reason given'}` }] });
      }
    } catch (caught) {
      const apiError = toApiError(caught);
      const onSample = apiError.errors.filter((item) => item.source?.pointer?.startsWith('/data/attributes/payload'));
      if (onSample.length) setSampleErrors(onSample.map((item) => item.detail || item.title));
      setError(apiError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="transformation-test-heading">
      <h2 id="transformation-test-heading">Test transformation</h2>
      <p class="hint">Runs the program above, as it is now, on an event made of the sample payload. Nothing is saved or sent.</p>
      <TextField
        id="transformation-sample"
        label="Sample payload (JSON)"
        rows={5}
        value={sample}
        onInput={setSample}
        placeholder={example == null ? '{}' : prettyJson(example)}
        hint={
          type ? (
            <>
              Empty: the example of <code>{type.id}</code>
              {example == null && ', which has none ({})'}.
            </>
          ) : (
            'Empty: the example of the webhook’s first event type, or {}.'
          )
        }
        errorId="transformation-sample-error"
        errors={sampleErrors}
      />
      {!readOnly && (
        <div class="actions">
          <button type="button" class="button" disabled={busy} onClick={run}>
            Run test
          </button>
        </div>
      )}
      <div role="region" aria-label="Result of the transformation test" aria-live="polite" class="test-result">
        {busy && <p>Running…</p>}
        <ErrorAlert id="transformation-test-error" error={error} />
        {result?.status === 'ok' && (
          <>
            <h3 class="small-heading">What the webhook receives</h3>
            <p class="hint">Extra headers first, if any, then the body.</p>
            <pre id="transformation-output" class="code" tabIndex={0}>
              {outputText(result)}
            </pre>
          </>
        )}
        {result && (
          <details>
            <summary>Input event</summary>
            <pre class="code" tabIndex={0}>
              {prettyJson(result.input)}
            </pre>
          </details>
        )}
      </div>
    </section>
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
  const [ordering, setOrdering] = useState<Ordering>(initial?.ordering ?? 'none');
  const [program, setProgram] = useState(initial?.transformation ?? '');
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
    // Empty (or blank) means none.
    const transformation = program.trim() ? program : null;
    const programBytes = new TextEncoder().encode(program).length;
    if (transformation !== null && programBytes > MAX_TRANSFORMATION_BYTES) {
      local.transformation = [`A transformation has at most ${MAX_TRANSFORMATION_BYTES} bytes; this one has ${programBytes}.`];
    }
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
    // Sent on create, and on edit only when changed.
    if (!webhook || ordering !== (initial?.ordering ?? 'none')) attributes.ordering = ordering;
    // Sent only when set or changed (null removes it), so that other edits leave the saved program alone.
    if (webhook ? transformation !== (initial?.transformation ?? null) : transformation !== null) attributes.transformation = transformation;

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

      <TextField
        id="filter"
        label="Payload filter"
        rows={4}
        value={filterText}
        onInput={setFilterText}
        placeholder='{"status": ["open", "paid"]}'
        hint={
          <>
            JSON: a dotted payload path to the values it may have. Applies to every selected event type; leave empty to
            receive every event.
            {distinctFilters.size > 1 && ' This webhook’s event types have different filters now; saving a change applies this one to all.'}
          </>
        }
        errorId="filter-error"
        errors={errors.filter}
      />

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

      <TextField
        id="retry-schedule"
        label="Retry schedule"
        value={schedule}
        onInput={setSchedule}
        placeholder="5, 300, 1800, 7200, 18000, 36000, 36000"
        hint="Seconds to wait after each failed try, comma-separated. Empty: the default (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h)."
        errorId="retry_schedule-error"
        errors={errors.retry_schedule}
      />

      <TextField
        id="rate-limit"
        label="Rate limit"
        value={rate}
        onInput={setRate}
        placeholder="no limit"
        hint="At most this many deliveries a second (1 to 1000); more wait their turn, none is dropped. Empty: no limit."
        errorId="rate_limit-error"
        errors={errors.rate_limit}
      />

      <div class="field">
        <label for="ordering">Order</label>
        <select
          id="ordering"
          value={ordering}
          onChange={(event) => setOrdering(event.currentTarget.value as Ordering)}
          aria-invalid={errors.ordering ? true : undefined}
          aria-describedby={describedBy('ordering', 'ordering-hint')}
        >
          {ORDERINGS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        <p id="ordering-hint" class="hint">
          In order: deliveries go out one at a time, in the order events were accepted, and a failing one holds back the later ones
          until it succeeds or fails for good.
        </p>
        <FieldError id="ordering-error" errors={errors.ordering} />
      </div>

      <div class="transformation">
        <TextField
          id="transformation"
          label="Transformation (jq)"
          rows={6}
          value={program}
          onInput={setProgram}
          placeholder="none"
          hint={
            <>
              A jq program that rewrites what this webhook receives; empty: the event as it is. Its input is the event (
              <code>{'{id, type, timestamp, payload, headers}'}</code>) and its output an object with the <code>body</code> to send
              and optional extra <code>headers</code>, e.g. <code>{'{body: {text: "Invoice \\(.payload.id) paid"}}'}</code>.
            </>
          }
          errorId="transformation-error"
          errors={errors.transformation}
        />
        {webhook && <TransformationTest webhook={webhook} catalog={catalog} program={program} />}
      </div>

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
