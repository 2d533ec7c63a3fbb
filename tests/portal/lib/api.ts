// The platform's side of the tests: the Hookline API through fetch with the operator key.
import { randomBytes } from 'node:crypto';

export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the portal tests through scripts/portal-e2e.sh`);
  return value;
}

export const base = (): string => env('HOOKLINE_URL').replace(/\/$/, '');
const operator = (): string => env('HOOKLINE_OPERATOR_KEY');

export const JSONAPI = 'application/vnd.api+json';

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** One call of the API; `as` is an account's uid (the operator acts for it) or a bearer token. */
export async function call<T = any>(
  method: string,
  path: string,
  options: { body?: unknown; account?: string; token?: string; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${options.token ?? operator()}`,
    ...(options.account ? { 'hookline-account': options.account } : {}),
    ...(options.body !== undefined ? { 'content-type': JSONAPI } : {}),
    ...options.headers,
  };
  const response = await fetch(`${base()}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** A call that must answer `expected`; throws with the answer otherwise. */
export async function must<T = any>(
  expected: number | number[],
  method: string,
  path: string,
  options: Parameters<typeof call>[2] = {},
): Promise<Answer<T>> {
  const answer = await call<T>(method, path, options);
  const allowed = Array.isArray(expected) ? expected : [expected];
  if (!allowed.includes(answer.status)) {
    throw new Error(`${method} ${path} answered ${answer.status}, expected ${allowed.join(' or ')}: ${answer.text}`);
  }
  return answer;
}

/** The event types the tests use, in the platform's catalog (a 409 means already there). */
export const EVENT_TYPES = [
  {
    name: 'invoice.paid',
    description: 'An invoice was paid',
    group: 'billing',
    schema: {
      type: 'object',
      required: ['invoice', 'amount'],
      properties: { invoice: { type: 'string' }, amount: { type: 'integer' } },
    },
    example: { invoice: 'inv-1', amount: 1200 },
  },
  {
    name: 'invoice.voided',
    description: 'An invoice was voided',
    group: 'billing',
    schema: { type: 'object', required: ['invoice'], properties: { invoice: { type: 'string' } } },
    example: { invoice: 'inv-2' },
  },
  {
    name: 'customer.created',
    description: 'A customer signed up',
    group: 'customers',
    schema: { type: 'object', required: ['customer'], properties: { customer: { type: 'string' } } },
    example: { customer: 'cus-1' },
  },
] as const;

export async function ensureEventTypes(): Promise<void> {
  for (const type of EVENT_TYPES) {
    await must([201, 409], 'POST', '/api/v3/event_types', {
      body: { data: { type: 'event_types', attributes: type } },
    });
  }
}

export const unique = (prefix: string): string => `${prefix}_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

export interface Account {
  uid: string;
  name: string;
}

export async function createAccount(name: string): Promise<Account> {
  const uid = unique('cus_e2e');
  await must(201, 'POST', '/api/v3/accounts', {
    body: { data: { type: 'accounts', attributes: { uid, name } } },
  });
  return { uid, name };
}

export interface Branding {
  color?: string | null;
  logo_url?: string | null;
  theme?: 'light' | 'dark' | null;
}

export interface Session {
  id: string;
  token: string;
  url: string;
  expires_at: string;
  read_only: boolean;
  environment: string;
}

/** Every token made in this process, so that no test lets one reach a URL. */
export const tokens = new Set<string>();

export async function openSession(
  account: Account,
  options: { read_only?: boolean; expires_in?: number; branding?: Branding } = {},
): Promise<Session> {
  const answer = await must<Session>(201, 'POST', `/api/v3/accounts/${account.uid}/portal_sessions`, {
    body: { environment: 'production', read_only: false, expires_in: 3600, ...options },
    headers: { 'content-type': 'application/json' },
  });
  tokens.add(answer.body.token);
  return answer.body;
}

export async function revokeSession(account: Account, session: Session): Promise<void> {
  await must(204, 'DELETE', `/api/v3/accounts/${account.uid}/portal_sessions/${session.id}`);
}

/** The portal's address for a session: the token travels in the fragment only. */
export const portalUrl = (token: string): string => `${base()}/portal/#token=${token}`;

export async function createWebhook(account: Account, attributes: Record<string, unknown>): Promise<any> {
  const answer = await must(201, 'POST', '/api/v3/notification/webhooks', {
    account: account.uid,
    body: { data: { type: 'webhooks', attributes } },
  });
  return answer.body.data;
}

export async function patchWebhook(account: Account, id: string, attributes: Record<string, unknown>): Promise<any> {
  const answer = await must(200, 'PATCH', `/api/v3/notification/webhooks/${id}`, {
    account: account.uid,
    body: { data: { type: 'webhooks', id, attributes } },
  });
  return answer.body.data;
}

/** Publishes an event for the account through ingest, as the platform; returns the message id. */
export async function publish(account: Account, eventType: string, payload: unknown): Promise<string> {
  const answer = await must(202, 'POST', '/api/v3/notification/events', {
    account: account.uid,
    body: { event_type: eventType, payload },
    headers: { 'content-type': 'application/json', 'idempotency-key': unique('e2e') },
  });
  return answer.body.data.id;
}

/** Polls `probe` until it returns a value (not undefined), within `ms`. */
export async function eventually<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The attempts of a message (for setup waits only; tests assert on the page). */
export async function attempts(account: Account, messageId: string): Promise<any[]> {
  const answer = await call('GET', `/api/v3/notification/messages/${messageId}/attempts`, { account: account.uid });
  return answer.status === 200 ? answer.body.data : [];
}

/** Waits for a message's delivery to reach one of `statuses` (by its attempts' outcome). */
export async function waitForAttempt(
  account: Account,
  messageId: string,
  accept: (attempt: any) => boolean,
  ms = 20_000,
): Promise<any> {
  return eventually(`an attempt of ${messageId}`, ms, async () =>
    (await attempts(account, messageId)).find((attempt) => accept(attempt.attributes)),
  );
}
