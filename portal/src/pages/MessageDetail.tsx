// #/messages/{id}: one message, its payload, and per webhook its delivery with every attempt; retries of failed ones.
import { useContext, useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import { AttemptOutcome, isRetriable } from '../components/AttemptOutcome';
import { ErrorAlert } from '../components/ErrorAlert';
import { Time } from '../components/Time';
import { formatLatency, prettyJson } from '../format';
import { toApiError, useLoad } from '../hooks';
import { href, paths } from '../router';
import { SessionContext } from '../session';
import type { Attempt, Delivery } from '../types';
import { ScrollTable } from '../components/ScrollTable';

// A message's attempts come in pages counted in deliveries; a message has few, so read them all.
async function allAttempts(id: string): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  let next: string | undefined;
  do {
    const page = await api.messageAttempts(id, next);
    attempts.push(...page.data);
    next = page.links?.next ?? undefined;
  } while (next);
  return attempts;
}

function DeliverySection({ delivery, attempts, readOnly, busy, onRetry }: {
  delivery: Delivery;
  attempts: Attempt[];
  readOnly: boolean;
  busy: boolean;
  onRetry: () => void;
}) {
  const webhookId = delivery.attributes.webhook_id;
  const headingId = `delivery-${webhookId}`;
  // An ordered webhook's delivery held behind an earlier message.
  const waitingFor = delivery.attributes.waiting_for;
  return (
    <section class="card" aria-labelledby={headingId}>
      <div class="card-heading">
        <h2 id={headingId}>
          <a href={href(paths.webhook(webhookId))}>Webhook {webhookId}</a>
        </h2>
        {!readOnly && isRetriable(delivery.attributes.status) && (
          <button type="button" class="button" disabled={busy} onClick={onRetry}>
            Retry
          </button>
        )}
      </div>
      <p>
        <span class={`status status-${delivery.attributes.status}`}>{delivery.attributes.status}</span>
        {' · '}
        {delivery.attributes.attempts === 1 ? '1 attempt' : `${delivery.attributes.attempts} attempts`}
        {delivery.attributes.next_attempt_at && (
          <>
            {' · next attempt '}
            <Time iso={delivery.attributes.next_attempt_at} />
          </>
        )}
        {waitingFor && (
          <>
            {' · waiting for '}
            <a class="mono" href={href(paths.message(waitingFor))}>
              {waitingFor}
            </a>
          </>
        )}
      </p>
      {attempts.length > 0 ? (
        <ScrollTable label={`Attempts to webhook ${webhookId}`} columns={['Number', 'Time', 'Outcome', 'Status code', 'Latency', 'Response']}>
              {attempts.map((attempt) => (
                <tr key={attempt.id}>
                  <td class="num">{attempt.attributes.number}</td>
                  <td>
                    <Time iso={attempt.attributes.at} />
                  </td>
                  <td>
                    <AttemptOutcome status={attempt.attributes.status} />
                  </td>
                  <td class="num">{attempt.attributes.status_code ?? '—'}</td>
                  <td class="num">{formatLatency(attempt.attributes.latency_ms)}</td>
                  <td class="response-cell">
                    <details>
                      <summary>Response</summary>
                      <h3 class="small-heading">Headers</h3>
                      <pre class="code" tabIndex={0}>
                        {Object.entries(attempt.attributes.response_headers)
                          .map(([name, value]) => `${name}: ${value}`)
                          .join('\n') || 'None'}
                      </pre>
                      <h3 class="small-heading">Body</h3>
                      <pre class="code" tabIndex={0}>{attempt.attributes.response_body || 'Empty'}</pre>
                    </details>
                  </td>
                </tr>
              ))}
            </ScrollTable>
      ) : (
        <p class="muted">No attempt recorded yet.</p>
      )}
    </section>
  );
}

export function MessageDetail({ id }: { id: string }) {
  const session = useContext(SessionContext);
  const loaded = useLoad(() => Promise.all([api.message(id), allAttempts(id)]), [id]);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const [answer, setAnswer] = useState<string | null>(null);

  const retry = async (webhookId?: number) => {
    setBusy(true);
    setActionError(null);
    setAnswer(null);
    try {
      const enqueued = (await api.retry(id, webhookId)).data.attributes.enqueued;
      setAnswer(enqueued === 1 ? '1 delivery was sent again.' : `${enqueued} deliveries were sent again.`);
      loaded.reload();
    } catch (error) {
      setActionError(toApiError(error));
    } finally {
      setBusy(false);
    }
  };

  const title = <h1 class="break">Message {id}</h1>;
  if (!loaded.data) {
    return (
      <>
        {title}
        <ErrorAlert error={loaded.error} />
        {loaded.loading && <p aria-live="polite">Loading…</p>}
      </>
    );
  }
  const [{ data: message, included = [] }, attempts] = loaded.data;
  const deliveries = included.filter((resource) => resource.type === 'deliveries');
  const anyFailed = deliveries.some((delivery) => isRetriable(delivery.attributes.status));
  const readOnly = session.read_only;
  return (
    <>
      <div class="page-heading">
        {title}
        {!readOnly && anyFailed && (
          <button type="button" class="button primary" disabled={busy} onClick={() => retry()}>
            Retry all failed
          </button>
        )}
      </div>
      <ErrorAlert error={actionError} />
      <p aria-live="polite">{answer}</p>
      <dl class="summary">
        <dt>Event type</dt>
        <dd>{message.attributes.event_type}</dd>
        <dt>Occurred</dt>
        <dd>
          <Time iso={message.attributes.occurred_at} />
        </dd>
        <dt>Accepted</dt>
        <dd>
          <Time iso={message.attributes.created_at} />
        </dd>
        <dt>Environment</dt>
        <dd>{message.attributes.environment}</dd>
        {message.attributes.idempotency_key && (
          <>
            <dt>Idempotency key</dt>
            <dd class="break">{message.attributes.idempotency_key}</dd>
          </>
        )}
        {Object.keys(message.attributes.scopes).length > 0 && (
          <>
            <dt>Scopes</dt>
            <dd class="break">{JSON.stringify(message.attributes.scopes)}</dd>
          </>
        )}
      </dl>
      <h2>Payload</h2>
      <pre class="code" role="region" aria-label="Payload" tabIndex={0}>
        {prettyJson(message.attributes.payload ?? null)}
      </pre>
      {deliveries.length === 0 && <p class="empty">This message matched no webhook.</p>}
      {deliveries.map((delivery) => (
        <DeliverySection
          key={delivery.id}
          delivery={delivery}
          attempts={attempts.filter((attempt) => attempt.attributes.webhook_id === delivery.attributes.webhook_id)}
          readOnly={readOnly}
          busy={busy}
          onRetry={() => retry(delivery.attributes.webhook_id)}
        />
      ))}
    </>
  );
}
