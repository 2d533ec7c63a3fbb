// The API's documents as the portal reads them (see GET /api/v3/openapi.json).

export type Environment = 'production' | 'sandbox';
export type SignatureAlgo = 'hmac' | 'jwt' | 'ed25519';
/** How a webhook's deliveries go out: as soon as possible, or one at a time in the order events were accepted. */
export type Ordering = 'none' | 'fifo';
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'refused' | 'cancelled';
export type AttemptStatus = 'success' | 'http_error' | 'timeout' | 'connection_error' | 'refused' | 'transformation_error';
export type StatsWindow = '1h' | '24h' | '7d';

export interface Resource<T extends string, A> {
  type: T;
  id: string;
  attributes: A;
}

export interface Branding {
  color: string | null;
  logo_url: string | null;
  theme: 'light' | 'dark' | null;
}

export interface SessionAttributes {
  kind: 'portal_session' | 'account_key' | 'operator';
  account: { uid: string; name: string };
  environment: Environment;
  read_only: boolean;
  expires_at: string | null;
  branding: Branding;
}

export type Filters = Record<string, Array<string | number | boolean | null>>;
export type Subscription = string | { event_type: string; filters?: Filters | null };

export interface WebhookAttributes {
  id: number;
  name: string;
  url: string;
  secret: string;
  events: Subscription[];
  scopes: Record<string, string>;
  headers: Record<string, string>;
  signature_algo: SignatureAlgo;
  public_key: string | null;
  retry_schedule: number[] | null;
  timeout_seconds: number | null;
  rate_limit?: number | null;
  /** A jq program that rewrites each delivery (its body and extra headers); null or absent: none. */
  transformation?: string | null;
  /** `fifo`: one delivery at a time, in the order events were accepted; absent from APIs older than the portal (then `none`). */
  ordering?: Ordering;
  environment: Environment;
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}
export type Webhook = Resource<'webhooks', WebhookAttributes>;

/** What a create or a patch sends: null resets a member to its default. */
export interface WebhookInput {
  name?: string;
  url?: string;
  events?: Subscription[];
  headers?: Record<string, string>;
  signature_algo?: SignatureAlgo;
  retry_schedule?: number[] | null;
  rate_limit?: number | null;
  transformation?: string | null;
  ordering?: Ordering;
  status?: 'enabled' | 'disabled';
}

export interface EventTypeAttributes {
  name: string;
  description: string;
  group: string;
  schema?: unknown;
  example?: unknown;
  deprecated: boolean;
  built_in: boolean;
}
export type EventType = Resource<'event_types', EventTypeAttributes>;

export interface DeliveryCounts {
  pending: number;
  succeeded: number;
  failed: number;
  refused: number;
  cancelled: number;
  total: number;
}

export interface SeriesBucket {
  start: string;
  end: string;
  deliveries: DeliveryCounts;
}

export interface StatsAttributes {
  window: StatsWindow;
  start: string;
  end: string;
  deliveries: DeliveryCounts;
  success_rate: number | null;
  latency_ms: { attempts: number; p50: number | null; p95: number | null };
  last_success_at: string | null;
  last_failure_at: string | null;
  /** Absent from APIs older than the portal. */
  series?: SeriesBucket[];
}
export interface StatsDocument {
  data: Resource<'webhook_stats', StatsAttributes>;
  meta?: { truncated: boolean; covered_from: string };
}

export interface AttemptAttributes {
  message_id: string;
  webhook_id: number;
  number: number;
  at: string;
  status: AttemptStatus;
  status_code: number | null;
  response_headers: Record<string, string>;
  response_body: string;
  latency_ms: number;
}
export type Attempt = Resource<'attempts', AttemptAttributes>;

export interface MessageAttributes {
  event_type: string;
  environment: Environment;
  scopes: Record<string, string>;
  matched: number;
  idempotency_key: string | null;
  occurred_at: string;
  created_at: string;
  payload?: Record<string, unknown> | null;
}
export type Message = Resource<'messages', MessageAttributes>;

export interface DeliveryAttributes {
  message_id: string;
  webhook_id: number;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  updated_at: string;
  /** An ordered webhook's delivery not tried yet: the earlier message (`msg_…`) it waits behind; absent from APIs older than the portal. */
  waiting_for?: string | null;
}
export type Delivery = Resource<'deliveries', DeliveryAttributes>;

export interface Document<D> {
  data: D;
}
export interface ListDocument<D> {
  data: D[];
  links?: { next?: string | null; prev?: string | null };
}
export interface MessageDocument {
  data: Message;
  included?: Delivery[];
}

export interface SecretAttributes {
  secret: string;
  public_key?: string | null;
  previous_valid_until?: string | null;
}
export type SecretDocument = Document<Resource<'webhook_secrets', SecretAttributes>>;
export type ActionDocument = Document<Resource<'retries' | 'recoveries', { enqueued: number }>>;

/** POST /webhooks/{id}/transformation/test: each member defaults to the webhook's own (its program, first event type, that type's example). */
export interface TransformationTestInput {
  transformation?: string;
  event_type?: string;
  payload?: Record<string, unknown>;
}

export interface TransformationTestAttributes {
  status: 'ok' | 'transformation_error';
  /** The event the program got: id, type, timestamp, payload, headers. */
  input: unknown;
  /** What the webhook would receive (when ok). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Why the program failed (when transformation_error). */
  error?: string;
}
export type TransformationTestDocument = Document<Resource<'transformation_tests', TransformationTestAttributes>>;

export interface TestResult {
  success: boolean;
  message: string;
}

export interface ApiErrorObject {
  status: string;
  code?: string;
  title: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string; header?: string } | null;
  /** E.g. `{"line": 1, "column": 5}` for a transformation that does not parse. */
  meta?: Record<string, unknown> | null;
}
