// #/webhooks?page=N: the webhooks, a page at a time, with their status, environment and 24 h health from the stats route.
import { useContext } from 'preact/hooks';
import { api } from '../api';
import { ErrorAlert } from '../components/ErrorAlert';
import { Time } from '../components/Time';
import { WebhookStatus } from '../components/WebhookStatus';
import { formatRate } from '../format';
import { useLoad } from '../hooks';
import { href, navigate, paths } from '../router';
import { SessionContext } from '../session';
import type { StatsAttributes, Webhook } from '../types';
import { ScrollTable } from '../components/ScrollTable';

function Health({ stats }: { stats: StatsAttributes | null | undefined }) {
  if (stats === undefined) return <td colSpan={2}>Loading…</td>;
  if (stats === null) return <td colSpan={2}>Unavailable</td>;
  return (
    <>
      <td class="num">{formatRate(stats.success_rate)}</td>
      <td>{stats.last_failure_at ? <Time iso={stats.last_failure_at} /> : 'None'}</td>
    </>
  );
}

export function WebhookList({ query }: { query: string }) {
  const session = useContext(SessionContext);
  const page = Math.max(1, Number.parseInt(new URLSearchParams(query).get('page') ?? '1', 10) || 1);
  const listed = useLoad(() => api.webhooks(page), [page]);
  const webhooks = { ...listed, data: listed.data?.data };
  const toPage = (number: number) => navigate(number > 1 ? `${paths.webhooks}?page=${number}` : paths.webhooks);
  // One stats read per webhook, in parallel; a failed one shows as unavailable rather than failing the list.
  const stats = useLoad(async () => {
    const entries = await Promise.all(
      (webhooks.data ?? []).map(async (webhook: Webhook) => {
        try {
          return [webhook.id, (await api.stats(webhook.id, '24h')).data.attributes] as const;
        } catch {
          return [webhook.id, null] as const;
        }
      }),
    );
    return new Map<string, StatsAttributes | null>(entries);
  }, [webhooks.data]);
  const healthOf = (id: string) => (stats.loading ? undefined : (stats.data?.get(id) ?? null));

  return (
    <>
      <div class="page-heading">
        <h1>Webhooks</h1>
        {!session.read_only && (
          <a class="button primary" href={href(paths.newWebhook)}>
            New webhook
          </a>
        )}
      </div>
      <ErrorAlert error={webhooks.error} />
      {webhooks.loading && !webhooks.data && <p aria-live="polite">Loading webhooks…</p>}
      {webhooks.data && webhooks.data.length === 0 && <p class="empty">{page > 1 ? 'No webhooks on this page' : 'No webhooks yet'}</p>}
      {webhooks.data && webhooks.data.length > 0 && (
        <ScrollTable label="Webhooks" columns={['URL', 'Status', 'Environment', 'Success rate (24 h)', 'Last failure']}>
              {webhooks.data.map((webhook) => (
                <tr key={webhook.id}>
                  <td class="url-cell">
                    <a href={href(paths.webhook(webhook.id))}>{webhook.attributes.url}</a>
                    {webhook.attributes.name && <div class="muted">{webhook.attributes.name}</div>}
                  </td>
                  <td>
                    <WebhookStatus webhook={webhook.attributes} />
                  </td>
                  <td>{webhook.attributes.environment}</td>
                  <Health stats={healthOf(webhook.id)} />
                </tr>
              ))}
            </ScrollTable>
      )}
      <div class="actions pager">
        {page > 1 && (
          <button type="button" class="button" onClick={() => toPage(page - 1)}>
            Previous page
          </button>
        )}
        {listed.data?.links?.next && (
          <button type="button" class="button" onClick={() => toPage(page + 1)}>
            Next page
          </button>
        )}
      </div>
    </>
  );
}
