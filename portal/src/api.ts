// The typed API client: bearer auth, JSON:API bodies, errors as ApiError, and any 401 ending the session.
import { endSession, getToken } from './session';
import type {
  ActionDocument,
  ApiErrorObject,
  Attempt,
  Document,
  EventType,
  ListDocument,
  Message,
  MessageDocument,
  SecretDocument,
  SessionAttributes,
  StatsDocument,
  StatsWindow,
  TestResult,
  TransformationTestDocument,
  TransformationTestInput,
  Webhook,
  WebhookInput,
} from './types';

const JSONAPI = 'application/vnd.api+json';
const NOTIFICATION = '/api/v3/notification';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: ApiErrorObject[],
  ) {
    super(errors.map((error) => error.detail || error.title).join('; ') || `HTTP ${status}`);
  }
}

type Body = { document: unknown } | { json: unknown };

async function request<T>(method: string, path: string, body?: Body): Promise<T> {
  const token = getToken();
  if (!token) {
    endSession();
    throw new ApiError(401, [{ status: '401', title: 'This session has ended' }]);
  }
  const headers: Record<string, string> = { Accept: JSONAPI, Authorization: `Bearer ${token}` };
  let payload: string | undefined;
  if (body) {
    // JSON:API documents for resources; the action routes (retry, recover, rotate) take plain JSON.
    headers['Content-Type'] = 'document' in body ? JSONAPI : 'application/json';
    payload = JSON.stringify('document' in body ? body.document : body.json);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, [{ status: '0', title: 'Network error', detail: 'The server could not be reached. Check your connection and try again.' }]);
  }
  if (response.status === 401) {
    endSession();
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!response.ok) {
    const errors = (parsed as { errors?: ApiErrorObject[] } | undefined)?.errors;
    throw new ApiError(
      response.status,
      errors?.length ? errors : [{ status: String(response.status), title: response.statusText || `HTTP ${response.status}` }],
    );
  }
  return parsed as T;
}

/** Only same-origin API paths are followed as `links.next`, whatever a response says. */
function apiPath(link: string): string {
  const url = new URL(link, window.location.origin);
  if (url.origin !== window.location.origin || !url.pathname.startsWith('/api/')) {
    throw new ApiError(0, [{ status: '0', title: 'Unexpected link', detail: 'The API answered a link outside this site.' }]);
  }
  return url.pathname + url.search;
}

function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// The platform's catalog changes rarely: read once per page load.
let catalog: Promise<ListDocument<EventType>> | undefined;

const webhookPath = (id: string) => `${NOTIFICATION}/webhooks/${encodeURIComponent(id)}`;
const messagePath = (id: string) => `${NOTIFICATION}/messages/${encodeURIComponent(id)}`;

/** Webhooks per page of the list (each row also reads its stats). */
export const WEBHOOKS_PER_PAGE = 25;

export const api = {
  session: () => request<Document<{ attributes: SessionAttributes }>>('GET', `${NOTIFICATION}/session`),

  eventTypes: () => (catalog ??= request<ListDocument<EventType>>('GET', `${NOTIFICATION}/event_types`).catch((error: unknown) => {
    catalog = undefined;
    throw error;
  })),

  // In id order (creation order) without a sort or filter, a page reads only the webhooks up to its end.
  webhooks: (page: number) =>
    request<ListDocument<Webhook>>(
      'GET',
      `${NOTIFICATION}/webhooks${query({ 'page[size]': String(WEBHOOKS_PER_PAGE), 'page[number]': String(page) })}`,
    ),
  webhook: (id: string) => request<Document<Webhook>>('GET', webhookPath(id)),
  createWebhook: (attributes: WebhookInput) =>
    request<Document<Webhook>>('POST', `${NOTIFICATION}/webhooks`, { document: { data: { type: 'webhooks', attributes } } }),
  updateWebhook: (id: string, attributes: WebhookInput) =>
    request<Document<Webhook>>('PATCH', webhookPath(id), { document: { data: { type: 'webhooks', id, attributes } } }),
  deleteWebhook: (id: string) => request<void>('DELETE', webhookPath(id)),
  secret: (id: string) => request<SecretDocument>('GET', `${webhookPath(id)}/secret`),
  rotateSecret: (id: string) => request<SecretDocument>('POST', `${webhookPath(id)}/rotate_secret`, { json: {} }),
  testTransformation: (id: string, attributes: TransformationTestInput) =>
    request<TransformationTestDocument>('POST', `${webhookPath(id)}/transformation/test`, {
      document: { data: { type: 'transformation_tests', attributes } },
    }),
  sendTest: (id: string) => request<TestResult>('POST', `${NOTIFICATION}/webhooks/test/${encodeURIComponent(id)}`),
  stats: (id: string, window: StatsWindow) => request<StatsDocument>('GET', `${webhookPath(id)}/stats${query({ window })}`),
  webhookAttempts: (id: string, next?: string) =>
    request<ListDocument<Attempt>>('GET', next ? apiPath(next) : `${webhookPath(id)}/attempts${query({ 'page[size]': '20' })}`),
  recover: (id: string, since: string) => request<ActionDocument>('POST', `${webhookPath(id)}/recover`, { json: { since } }),

  messages: (filters: Record<string, string | undefined>, next?: string) =>
    request<ListDocument<Message>>('GET', next ? apiPath(next) : `${NOTIFICATION}/messages${query({ 'page[size]': '50', ...filters })}`),
  message: (id: string) => request<MessageDocument>('GET', messagePath(id)),
  messageAttempts: (id: string, next?: string) =>
    request<ListDocument<Attempt>>('GET', next ? apiPath(next) : `${messagePath(id)}/attempts${query({ 'page[size]': '100' })}`),
  retry: (id: string, webhookId?: number) =>
    request<ActionDocument>('POST', `${messagePath(id)}/retry`, { json: webhookId === undefined ? {} : { webhook_id: webhookId } }),
};
