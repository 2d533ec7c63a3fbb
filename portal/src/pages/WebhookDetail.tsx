// #/webhooks/{id}: one webhook with its actions, secret, test send, delivery chart, recent attempts, recovery and verification snippets.
import { useContext, useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import { AttemptOutcome } from '../components/AttemptOutcome';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { DeliveriesChart } from '../components/DeliveriesChart';
import { ErrorAlert } from '../components/ErrorAlert';
import { SignatureSnippets } from '../components/SignatureSnippets';
import { Time } from '../components/Time';
import { WebhookStatus } from '../components/WebhookStatus';
import { formatLatency, formatRate, fromLocalInput, toLocalInput } from '../format';
import { toApiError, useLoad } from '../hooks';
import { href, navigate, paths } from '../router';
import { SessionContext } from '../session';
import type { Attempt, SecretAttributes, StatsWindow, TestResult, Webhook } from '../types';
import { ScrollTable } from '../components/ScrollTable';

/** Runs one action at a time, keeping its error for the page's alert. */
function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(toApiError(caught));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

/** The retry schedule as the user reads it: seconds between tries, none, or the platform's default. */
function retrySchedule(schedule: number[] | null | undefined): string {
  if (!schedule) return 'default';
  return schedule.length ? `${schedule.join(', ')} s` : 'none (one try only)';
}

function Summary({ webhook }: { webhook: Webhook }) {
  const attributes = webhook.attributes;
  const headerNames = Object.keys(attributes.headers);
  return (
    <dl class="summary">
      {attributes.name && (
        <>
          <dt>Description</dt>
          <dd>{attributes.name}</dd>
        </>
      )}
      <dt>Status</dt>
      <dd>
        <WebhookStatus webhook={attributes} />
      </dd>
      <dt>Environment</dt>
      <dd>{attributes.environment}</dd>
      <dt>Event types</dt>
      <dd>
        <ul class="plain">
          {attributes.events.map((subscription, index) =>
            typeof subscription === 'string' ? (
              <li key={index}>
                <code>{subscription}</code>
              </li>
            ) : (
              <li key={index}>
                <code>{subscription.event_type}</code>
                {subscription.filters && <span class="muted"> where {JSON.stringify(subscription.filters)}</span>}
              </li>
            ),
          )}
        </ul>
      </dd>
      <dt>Signature algorithm</dt>
      <dd>{attributes.signature_algo}</dd>
      <dt>Retry schedule</dt>
      <dd>{retrySchedule(attributes.retry_schedule)}</dd>
      <dt>Rate limit</dt>
      <dd>{attributes.rate_limit ? `${attributes.rate_limit} deliveries a second` : 'none'}</dd>
      <dt>Order</dt>
      <dd>{attributes.ordering === 'fifo' ? 'in order (fifo)' : 'as soon as possible'}</dd>
      <dt>Custom headers</dt>
      <dd>{headerNames.length ? headerNames.join(', ') : 'none'}</dd>
      <dt>Transformation</dt>
      <dd>
        {attributes.transformation ? (
          <pre class="code" role="region" aria-label="Transformation" tabIndex={0}>
            {attributes.transformation}
          </pre>
        ) : (
          'none'
        )}
      </dd>
      <dt>Created</dt>
      <dd>
        <Time iso={attributes.created_at} />
      </dd>
      <dt>Updated</dt>
      <dd>
        <Time iso={attributes.updated_at} />
      </dd>
    </dl>
  );
}

function SecretCard({ webhook, readOnly }: { webhook: Webhook; readOnly: boolean }) {
  const [secret, setSecret] = useState<SecretAttributes | null>(null);
  const [rotated, setRotated] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const action = useAction();

  const reveal = () => action.run(async () => setSecret((await api.secret(webhook.id)).data.attributes));
  const rotate = async () => {
    await action.run(async () => {
      setSecret((await api.rotateSecret(webhook.id)).data.attributes);
      setRotated(true);
    });
    setConfirming(false);
  };

  return (
    <section class="card" aria-labelledby="secret-heading">
      <h2 id="secret-heading">Signing key</h2>
      <ErrorAlert error={action.error} />
      {webhook.attributes.public_key && (
        <p>
          Public key: <code class="break">{webhook.attributes.public_key}</code>
        </p>
      )}
      {secret ? (
        <p>
          <span aria-hidden="true">Secret: </span>
          <output aria-label="Secret" class="secret break">
            {secret.secret}
          </output>
        </p>
      ) : (
        <p class="muted">
          Masked: <code>{webhook.attributes.secret}</code>
        </p>
      )}
      {rotated && secret && (
        <p class="note" role="status">
          {secret.previous_valid_until ? (
            <>
              The previous secret keeps signing deliveries, next to the new one, until <Time iso={secret.previous_valid_until} />. Switch
              your endpoint to the new secret before then.
            </>
          ) : (
            'The previous secret stopped working at once.'
          )}
        </p>
      )}
      <div class="actions">
        {!secret && (
          <button type="button" class="button" disabled={action.busy} onClick={reveal}>
            Reveal secret
          </button>
        )}
        {!readOnly && (
          <button type="button" class="button" disabled={action.busy} onClick={() => setConfirming(true)}>
            Rotate secret
          </button>
        )}
      </div>
      {confirming && (
        <ConfirmDialog title="Rotate the signing key?" confirmLabel="Rotate secret" busy={action.busy} onConfirm={rotate} onCancel={() => setConfirming(false)}>
          <p>A new secret signs every delivery from now on. The previous secret keeps signing too for 24 hours, so your endpoint can switch over.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function TestCard({ webhook }: { webhook: Webhook }) {
  const [result, setResult] = useState<TestResult | null>(null);
  const action = useAction();
  const send = () =>
    action.run(async () => {
      setResult(null);
      setResult(await api.sendTest(webhook.id));
    });
  return (
    <section class="card" aria-labelledby="test-heading">
      <h2 id="test-heading">Test send</h2>
      <p>Sends a webhook.test event to the endpoint now and shows what it answered.</p>
      <button type="button" class="button" disabled={action.busy} onClick={send}>
        Send test
      </button>
      <div role="region" aria-label="Test result" aria-live="polite" class="test-result">
        {action.busy && <p>Sending…</p>}
        {result && (
          <p class={result.success ? 'ok' : 'bad'}>
            <strong>{result.success ? 'Delivered: ' : 'Not delivered: '}</strong>
            {result.message}
          </p>
        )}
        {action.error && <ErrorAlert error={action.error} />}
      </div>
    </section>
  );
}

function StatsCard({ webhook }: { webhook: Webhook }) {
  const [statsWindow, setStatsWindow] = useState<StatsWindow>('24h');
  const stats = useLoad(() => api.stats(webhook.id, statsWindow), [webhook.id, statsWindow]);
  const attributes = stats.data?.data.attributes;
  const meta = stats.data?.meta;
  return (
    <section class="card" aria-labelledby="stats-heading">
      <div class="card-heading">
        <h2 id="stats-heading">Deliveries</h2>
        <div class="field inline">
          <label for="stats-window">Window</label>
          <select id="stats-window" value={statsWindow} onChange={(event) => setStatsWindow(event.currentTarget.value as StatsWindow)}>
            <option value="1h">1h</option>
            <option value="24h">24h</option>
            <option value="7d">7d</option>
          </select>
        </div>
      </div>
      <ErrorAlert error={stats.error} />
      {attributes && (
        <>
          <dl class="metrics">
            <div>
              <dt>Success rate</dt>
              <dd>{formatRate(attributes.success_rate)}</dd>
            </div>
            <div>
              <dt>Latency p50 / p95</dt>
              <dd>
                {formatLatency(attributes.latency_ms.p50)} / {formatLatency(attributes.latency_ms.p95)}
              </dd>
            </div>
            <div>
              <dt>Last success</dt>
              <dd>{attributes.last_success_at ? <Time iso={attributes.last_success_at} /> : 'None'}</dd>
            </div>
            <div>
              <dt>Last failure</dt>
              <dd>{attributes.last_failure_at ? <Time iso={attributes.last_failure_at} /> : 'None'}</dd>
            </div>
          </dl>
          {meta?.truncated && (
            <p class="note">
              Too many deliveries to count them all: these figures cover messages accepted from <Time iso={meta.covered_from} /> on.
            </p>
          )}
          <DeliveriesChart stats={attributes} />
        </>
      )}
      {stats.loading && !attributes && <p>Loading…</p>}
    </section>
  );
}

function AttemptsCard({ webhook }: { webhook: Webhook }) {
  const [attempts, setAttempts] = useState<Attempt[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const first = useLoad(async () => {
    const page = await api.webhookAttempts(webhook.id);
    setAttempts(page.data);
    setNext(page.links?.next ?? null);
    return true;
  }, [webhook.id]);
  const more = useAction();
  const loadMore = () =>
    more.run(async () => {
      if (!next) return;
      const page = await api.webhookAttempts(webhook.id, next);
      setAttempts([...attempts, ...page.data]);
      setNext(page.links?.next ?? null);
    });
  return (
    <section class="card" aria-labelledby="attempts-heading">
      <h2 id="attempts-heading">Recent attempts</h2>
      <ErrorAlert error={first.error ?? more.error} />
      {first.loading && <p>Loading…</p>}
      {!first.loading && !first.error && attempts.length === 0 && <p class="empty">No attempts yet</p>}
      {attempts.length > 0 && (
        <ScrollTable label="Recent attempts" columns={['Time', 'Message', 'Outcome', 'Status code', 'Latency']}>
              {attempts.map((attempt) => (
                <tr key={attempt.id}>
                  <td>
                    <Time iso={attempt.attributes.at} />
                  </td>
                  <td>
                    <a class="mono" href={href(paths.message(attempt.attributes.message_id))}>
                      {attempt.attributes.message_id}
                    </a>
                    {attempt.attributes.number > 1 && <span class="muted"> (try {attempt.attributes.number})</span>}
                  </td>
                  <td>
                    <AttemptOutcome status={attempt.attributes.status} />
                  </td>
                  <td class="num">{attempt.attributes.status_code ?? '—'}</td>
                  <td class="num">{formatLatency(attempt.attributes.latency_ms)}</td>
                </tr>
              ))}
            </ScrollTable>
      )}
      {next && (
        <button type="button" class="button" disabled={more.busy} onClick={loadMore}>
          More attempts
        </button>
      )}
    </section>
  );
}

function RecoverCard({ webhook }: { webhook: Webhook }) {
  const [since, setSince] = useState(() => toLocalInput(new Date(Date.now() - 24 * 3600 * 1000)));
  const [answer, setAnswer] = useState<string | null>(null);
  const action = useAction();
  const recover = (event: Event) => {
    event.preventDefault();
    const iso = fromLocalInput(since);
    if (!iso) {
      action.run(async () => {
        throw new ApiError(422, [{ status: '422', title: 'Invalid value', detail: 'Choose a date and time to recover from.' }]);
      });
      return;
    }
    action.run(async () => {
      setAnswer(null);
      const enqueued = (await api.recover(webhook.id, iso)).data.attributes.enqueued;
      setAnswer(enqueued === 1 ? '1 delivery was sent again.' : `${enqueued} deliveries were sent again.`);
    });
  };
  return (
    <section class="card" aria-labelledby="recover-heading">
      <h2 id="recover-heading">Recover failed deliveries</h2>
      <p>Sends again every failed, refused or cancelled delivery of the messages accepted since a time.</p>
      <form class="inline-form" onSubmit={recover}>
        <div class="field">
          <label for="recover-since">Since</label>
          <input id="recover-since" type="datetime-local" value={since} onInput={(event) => setSince(event.currentTarget.value)} />
        </div>
        <button type="submit" class="button" disabled={action.busy}>
          Recover
        </button>
      </form>
      <ErrorAlert error={action.error} />
      <p aria-live="polite">{answer}</p>
    </section>
  );
}

export function WebhookDetail({ id }: { id: string }) {
  const session = useContext(SessionContext);
  const loaded = useLoad(() => api.webhook(id).then((document) => document.data), [id]);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const action = useAction();
  const webhook = loaded.data;
  const readOnly = session.read_only;

  const setStatus = (status: 'enabled' | 'disabled') =>
    action.run(async () => {
      loaded.setData((await api.updateWebhook(id, { status })).data);
    });
  const remove = async () => {
    await action.run(async () => {
      await api.deleteWebhook(id);
      navigate(paths.webhooks);
    });
    setConfirmDelete(false);
  };

  if (!webhook) {
    return (
      <>
        <h1>Webhook {id}</h1>
        <ErrorAlert error={loaded.error} />
        {loaded.loading && <p aria-live="polite">Loading…</p>}
      </>
    );
  }
  return (
    <>
      <div class="page-heading">
        <h1 class="break">{webhook.attributes.url}</h1>
        {!readOnly && (
          <div class="actions">
            <a class="button" href={href(paths.editWebhook(id))}>
              Edit
            </a>
            {webhook.attributes.status === 'enabled' ? (
              <button type="button" class="button" disabled={action.busy} onClick={() => setStatus('disabled')}>
                Disable
              </button>
            ) : (
              <button type="button" class="button primary" disabled={action.busy} onClick={() => setStatus('enabled')}>
                Enable
              </button>
            )}
            <button type="button" class="button danger" disabled={action.busy} onClick={() => setConfirmDelete(true)}>
              Delete
            </button>
          </div>
        )}
      </div>
      <ErrorAlert error={action.error} />
      <Summary webhook={webhook} />
      {confirmDelete && (
        <ConfirmDialog
          title="Delete this webhook?"
          confirmLabel="Delete"
          danger
          busy={action.busy}
          onConfirm={remove}
          onCancel={() => setConfirmDelete(false)}
        >
          <p>
            Deliveries to <span class="break">{webhook.attributes.url}</span> stop, and its queued retries end cancelled. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
      <div class="cards">
        <SecretCard webhook={webhook} readOnly={readOnly} />
        {!readOnly && <TestCard webhook={webhook} />}
        <StatsCard webhook={webhook} />
        <AttemptsCard webhook={webhook} />
        {!readOnly && <RecoverCard webhook={webhook} />}
        <SignatureSnippets algo={webhook.attributes.signature_algo} publicKey={webhook.attributes.public_key} />
      </div>
    </>
  );
}
