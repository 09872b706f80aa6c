import type { RouteName } from '../vocabulary/topology.ts';

/** What happened to one request the load generator sent. */
export interface RequestOutcome {
  route: RouteName;
  /** Seconds from the start of the timeline at which the request was due (its intended send time). */
  dueAtS: number;
  /** Which stream of the load sent it: its index in `DriveLoadOptions.routes` (a flood is its own stream). */
  stream: number;
  /**
   * How late the generator sent it after its due time, in ms: the generator's own health. A generator
   * that falls behind its schedule measures itself instead of the system.
   */
  sendLagMs: number;
  /**
   * From the intended send time to the answer or error: free of coordinated omission. For a closed-model
   * outcome (`loadModel: 'closed'`), from when it was sent: `dueAtS` is then its send time.
   */
  latencyMs: number;
  ok: boolean;
  /** Empty for successes; otherwise a stable cause such as `deadline`, `refused`, `reset`, `http_500`. */
  cause: string;
  status: number | null;
  /**
   * The W3C trace id the request carried in its `traceparent` header, so the outcome can be joined with
   * the spans the services exported for it; absent when the generator did not trace.
   */
  traceId?: string;
  /** When the request was handed to the HTTP client, in epoch milliseconds (the trace's clock). */
  sentAtEpochMs?: number;
  /** What the databases will know this request by, for the audit: its Idempotency-Key and email. */
  idempotencyKey?: string;
  email?: string;
  /** 'closed' for a request of a closed-model stream (autocannon, lab/load/closed-load.ts); absent: open. */
  loadModel?: 'closed';
}

interface ErrorWithCode {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
}

/**
 * Maps an error from the HTTP client to a stable cause. Pure, so the mapping is unit-tested.
 *
 * @example
 *   causeOfClientError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })) // 'refused'
 */
export function causeOfClientError(error: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { code, name, message, cause } = current as ErrorWithCode;
    if (code === 'ECONNREFUSED') return 'refused';
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') return 'reset';
    if (code === 'UND_ERR_CLOSED' && typeof message === 'string' && /closed/i.test(message)) return 'reset';
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'client_timeout';
    if (name === 'TimeoutError') return 'client_timeout';
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect_timeout';
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
    if (typeof message === 'string' && /other side closed|socket hang up/i.test(message)) return 'reset';
    current = cause;
  }
  return 'client_error';
}

/** The cause of a non-2xx answer: the service's JSON `cause` when it gave one, else `http_<status>`. */
export function causeOfResponse(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { cause?: unknown };
    if (typeof parsed.cause === 'string' && /^[a-z_]{1,40}$/.test(parsed.cause)) return parsed.cause;
  } catch {
    // not JSON: fall through to the status
  }
  return `http_${status}`;
}
