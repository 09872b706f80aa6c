/**
 * Why a call to another service failed, in a vocabulary stable enough for a report to group by:
 *
 * - `deadline`: our own deadline fired (cockatiel TaskCancelledError, an abort from our signal).
 * - `refused`: nothing listens there (ECONNREFUSED).
 * - `reset`: the connection broke or closed without an answer (ECONNRESET, EPIPE, undici's "other side
 *   closed"). Toxiproxy accepts and then closes when its upstream is dead, so an empty reply lands here.
 * - `dns`: the name did not resolve (NXDOMAIN, SERVFAIL, resolver timeout, EAI_AGAIN).
 * - `upstream_status`: the service answered, with a non-2xx status.
 * - `circuit_open`: our circuit breaker is open (or isolated), so the call was not even tried.
 * - `bulkhead_full`: our bulkhead had no free slot and no queue place, so the call was not even tried.
 * - `unknown`: anything else; `detail` says what.
 */
export type UpstreamCause =
  'deadline' | 'refused' | 'reset' | 'dns' | 'upstream_status' | 'circuit_open' | 'bulkhead_full' | 'unknown';

export interface UpstreamFailure {
  readonly cause: UpstreamCause;
  readonly detail: string;
  /** The upstream's HTTP status, only for `upstream_status`. */
  readonly status?: number;
}

/** The upstream answered with a non-2xx status. */
export class UpstreamStatusError extends Error {
  readonly code = 'UPSTREAM_STATUS';
  override name = 'UpstreamStatusError';
  readonly status: number;

  constructor(status: number, body: string) {
    super(`upstream answered ${status}: ${truncate(body, 200)}`);
    this.status = status;
  }
}

/** A failed call to another service, already classified; answered as 504, 503 or 502 (see below). */
export class UpstreamError extends Error {
  readonly code = 'UPSTREAM_FAILURE';
  override name = 'UpstreamError';
  readonly failure: UpstreamFailure;
  /**
   * Requests of this call that reached, or may have reached, the upstream without an answer proving it
   * did nothing: timed out, reset, or still running when the call gave up. `undefined` when the caller
   * did not count. The last attempt's cause alone cannot say this: under a retry policy, a first attempt
   * can time out after the upstream committed and a second one be refused.
   */
  readonly attemptsInDoubt: number | undefined;

  constructor(
    upstream: string,
    failure: UpstreamFailure,
    options?: ErrorOptions & { attemptsInDoubt?: number | undefined },
  ) {
    super(`${upstream} call failed (${failure.cause}): ${failure.detail}`, options);
    this.failure = failure;
    this.attemptsInDoubt = options?.attemptsInDoubt;
  }
}

/**
 * 504 when we ran out of time; 503 when our own policy refused to try (breaker open, bulkhead full), which
 * says "back off, we are shedding load" rather than "the upstream broke"; 502 when the upstream or the
 * path to it failed.
 *
 * @example
 *   statusForUpstreamCause('circuit_open'); // 503
 */
export function statusForUpstreamCause(cause: UpstreamCause): 502 | 503 | 504 {
  if (cause === 'deadline') return 504;
  if (cause === 'circuit_open' || cause === 'bulkhead_full') return 503;
  return 502;
}

/**
 * Whether another attempt could succeed where this one failed: our attempt's time ran out, the connection
 * was refused or reset, the name did not resolve, or the upstream answered 5xx. A 4xx (bad input, key
 * reused with another body) would fail the same way again; our own breaker and bulkhead refusals are
 * decisions, not faults.
 *
 * @example
 *   isTransientUpstreamFailure({ cause: 'upstream_status', status: 503, detail: '' }); // true
 *   isTransientUpstreamFailure({ cause: 'upstream_status', status: 422, detail: '' }); // false
 */
export function isTransientUpstreamFailure(failure: UpstreamFailure): boolean {
  switch (failure.cause) {
    case 'deadline':
    case 'refused':
    case 'reset':
    case 'dns':
      return true;
    case 'upstream_status':
      return failure.status !== undefined && failure.status >= 500;
    default:
      return false;
  }
}

/** c-ares and getaddrinfo codes that can only come from name resolution. */
const DNS_CODES = new Set([
  'ENOTFOUND',
  'ESERVFAIL',
  'ETIMEOUT',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EAI_FAIL',
  'ENODATA',
  'EFORMERR',
  'ENOTIMP',
  'EREFUSED',
  'EBADRESP',
  'EBADNAME',
]);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED']);
const ABORT_CODES = new Set(['ABORT_ERR', 'UND_ERR_ABORTED', 'UND_ERR_ABORT', 'DEADLINE_EXCEEDED']);

/**
 * Classifies whatever an outbound call threw. Pure: it looks only at the error, its `cause` chain and an
 * AggregateError's members (Node raises one when every address of a name fails), so unit tests can use
 * plain fakes.
 *
 * @example
 *   classifyUpstreamFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
 *   // { cause: 'refused', detail: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1' }
 */
export function classifyUpstreamFailure(error: unknown): UpstreamFailure {
  const queue: unknown[] = [error];
  for (let visited = 0; queue.length > 0 && visited < 16; visited += 1) {
    const current = queue.shift();
    const failure = classifyOne(current);
    if (failure) return failure;
    if (typeof current === 'object' && current !== null) {
      const { cause, errors } = current as { cause?: unknown; errors?: unknown };
      if (cause !== undefined) queue.push(cause);
      if (Array.isArray(errors)) queue.push(...(errors as unknown[]));
    }
  }
  return { cause: 'unknown', detail: describe(error) };
}

function classifyOne(error: unknown): UpstreamFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const {
    code,
    name,
    message,
    syscall,
    status,
    isTaskCancelledError,
    isBrokenCircuitError,
    isBulkheadRejectedError,
  } = error as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    syscall?: unknown;
    status?: unknown;
    isTaskCancelledError?: unknown;
    isBrokenCircuitError?: unknown;
    isBulkheadRejectedError?: unknown;
  };
  const detail = describe(error);
  // cockatiel brands its errors with flags rather than codes; IsolatedCircuitError carries the breaker's too.
  if (isBrokenCircuitError === true) return { cause: 'circuit_open', detail };
  if (isBulkheadRejectedError === true) return { cause: 'bulkhead_full', detail };
  if (code === 'UPSTREAM_STATUS' && typeof status === 'number') {
    return { cause: 'upstream_status', detail, status };
  }
  if (
    isTaskCancelledError === true ||
    name === 'AbortError' ||
    name === 'TimeoutError' ||
    (typeof code === 'string' && ABORT_CODES.has(code))
  ) {
    return { cause: 'deadline', detail };
  }
  // A DNS server that refuses or times out raises codes that also exist for TCP; the syscall tells them apart.
  const fromResolver =
    typeof syscall === 'string' && (syscall.startsWith('query') || syscall === 'getaddrinfo');
  if (fromResolver || (typeof code === 'string' && DNS_CODES.has(code))) return { cause: 'dns', detail };
  if (code === 'ECONNREFUSED') return { cause: 'refused', detail };
  if (
    (typeof code === 'string' && RESET_CODES.has(code)) ||
    /other side closed|socket hang up/i.test(String(message))
  ) {
    return { cause: 'reset', detail };
  }
  return undefined;
}

function describe(error: unknown): string {
  if (typeof error !== 'object' || error === null) return truncate(String(error), 300);
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  const label = typeof code === 'string' ? code : typeof name === 'string' ? name : 'Error';
  return truncate(`${label}: ${String(message ?? '')}`, 300);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
