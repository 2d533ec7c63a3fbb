// A webhook's status as text: enabled, or disabled with the reason (readable, then the API's code).
import type { WebhookAttributes } from '../types';

const REASONS: Record<string, string> = {
  manual: 'turned off by its owner',
  endpoint_gone: 'the endpoint answered 410 Gone',
  failing_too_long: 'every delivery failed for days',
  account_deleted: 'the account was deleted',
};

export function statusText(webhook: Pick<WebhookAttributes, 'status' | 'disabled_reason'>): string {
  if (webhook.status !== 'disabled') return 'enabled';
  const reason = webhook.disabled_reason;
  if (!reason) return 'disabled';
  return `disabled: ${REASONS[reason] ?? reason.replace(/_/g, ' ')} (${reason})`;
}

export function WebhookStatus({ webhook }: { webhook: Pick<WebhookAttributes, 'status' | 'disabled_reason'> }) {
  return <span class={`status status-${webhook.status}`}>{statusText(webhook)}</span>;
}
