import { METHODS } from 'node:http';
import type { FuzzServiceName } from './fuzz-services.ts';

// What docs/services.md promises for a request, written independently of the services' code so the fuzz
// tests can compare: which statuses are allowed, which fields a 400 may name, whether the request is
// valid input at all. Where the promise depends on how Node's HTTP parser reads the bytes (which header
// values and request targets it accepts, how it trims and joins header values), the rules below are the
// ones measured on Node 24: a value byte outside HTAB, 0x20-0x7E and 0x80-0xFF, or a target byte outside
// 0x21-0x7E, is a 400 `malformed HTTP request` before any route sees it.

export type RouteKind = 'signup' | 'charge' | 'checkout';

/** A POST route that reads a JSON body and may write. */
export interface PostRoute {
  readonly service: FuzzServiceName;
  readonly path: string;
  readonly kind: RouteKind;
}

export const POST_ROUTES: readonly PostRoute[] = [
  { service: 'monolith', path: '/signup', kind: 'signup' },
  { service: 'monolith', path: '/pay', kind: 'charge' },
  { service: 'monolith', path: '/checkout', kind: 'checkout' },
  { service: 'payment-service', path: '/charge', kind: 'charge' },
  { service: 'signup-service', path: '/signup', kind: 'signup' },
  { service: 'signup-service', path: '/checkout', kind: 'checkout' },
];

/** Every path of each service and the methods it answers (the routes table of docs/services.md). */
export const ROUTE_METHODS: Readonly<Record<FuzzServiceName, Readonly<Record<string, string>>>> = {
  monolith: {
    '/signup': 'POST',
    '/pay': 'POST',
    '/checkout': 'POST',
    '/healthz': 'GET',
    '/metrics': 'GET',
    '/metrics.json': 'GET',
  },
  'payment-service': {
    '/charge': 'POST',
    '/charges': 'GET',
    '/healthz': 'GET',
    '/metrics': 'GET',
    '/metrics.json': 'GET',
  },
  'signup-service': {
    '/signup': 'POST',
    '/checkout': 'POST',
    '/healthz': 'GET',
    '/metrics': 'GET',
    '/metrics.json': 'GET',
  },
};

export const BODY_LIMIT_BYTES = 64 * 1024;
const MAX_BUDGET_MS = 3_600_000;
const MAX_AMOUNT_CENTS = 10_000_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Budgets below this may run out while a batch competes for the 2 cores: a 504 is then a fair answer. */
const TIGHT_BUDGET_MS = 2_000;

export interface Expectation {
  /** The statuses the promise allows; `undefined` among them: no answer at all is acceptable too. */
  readonly statuses: ReadonlySet<number | undefined>;
  /** The fields a 400 `{ error, field }` may name (any one of the wrong ones); 'any' when unknown. */
  readonly fields: ReadonlySet<string> | 'any';
  /** The request may write: valid input with time to do it. Anything else must write nothing. */
  readonly valid: boolean;
}

/** Whether Node's parser accepts these bytes as a header value. */
export function headerValueAccepted(bytes: Buffer): boolean {
  return bytes.every((byte) => byte === 0x09 || (byte >= 0x20 && byte !== 0x7f));
}

/** Whether Node's parser accepts these bytes as a request target. */
export function targetAccepted(target: Buffer): boolean {
  return target.length > 0 && target.every((byte) => byte > 0x20 && byte < 0x7f);
}

/** A header as a handler reads it: bytes as latin1, surrounding spaces and tabs trimmed, repeats joined. */
export function headerAsRead(lines: readonly Buffer[]): string | undefined {
  if (lines.length === 0) return undefined;
  return lines.map((line) => line.toString('latin1').replace(/^[ \t]+|[ \t]+$/g, '')).join(', ');
}

/** The budget an `X-Deadline-Ms` value gives, undefined when absent; 'invalid' when it must be a 400. */
export function deadlineBudget(value: string | undefined): number | 'invalid' | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return /^\d{1,10}$/.test(trimmed) && Number(trimmed) <= MAX_BUDGET_MS ? Number(trimmed) : 'invalid';
}

export interface PostRequest {
  readonly route: PostRoute;
  readonly body: Buffer;
  /** The Expect header's value, if one was sent. */
  readonly expectHeader?: Buffer | undefined;
  /** Every header value sent besides these (Content-Type and the like). */
  readonly otherHeaderValues: readonly Buffer[];
  readonly keyLines: readonly Buffer[];
  readonly deadlineLines: readonly Buffer[];
}

/**
 * What a complete POST to one of {@link POST_ROUTES} may be answered. Invalid input: 400 naming a wrong
 * field or header, 413 over 64 KiB (or no answer: the connection is cut after a 413), 417 for an Expect
 * other than 100-continue. Valid input:
 * the route's success or its documented domain refusals (409 taken email, 422 key reused), and a 504
 * `deadline` when the caller's budget was tight.
 */
export function expectedForPost(request: PostRequest): Expectation {
  const { route } = request;
  const expectHeader = request.expectHeader ? [request.expectHeader] : [];
  const allHeaders = [
    ...request.otherHeaderValues,
    ...expectHeader,
    ...request.keyLines,
    ...request.deadlineLines,
  ];
  if (!allHeaders.every(headerValueAccepted)) return invalid([400]);
  // Node answers any Expect but 100-continue (its own test of the value) before a route sees the request.
  const expectValue = headerAsRead(expectHeader);
  if (expectValue !== undefined && !/(?:^|\W)100-continue(?:$|\W)/i.test(expectValue)) {
    return invalid([417], ['Expect']);
  }

  const budget = deadlineBudget(headerAsRead(request.deadlineLines));
  if (budget === 'invalid') return invalid([400], ['X-Deadline-Ms']);
  if (request.body.length > BODY_LIMIT_BYTES) return invalid([413, undefined]);

  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body.toString('utf8'));
  } catch {
    return invalid([400]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return invalid([400]);
  const body = parsed as Record<string, unknown>;

  const wrong: string[] = [];
  if (route.kind === 'signup' || route.kind === 'checkout') {
    if (!isString(body['email'], 3, 320) || !(body['email'] as string).includes('@')) wrong.push('email');
    if (!isString(body['password'], 8, 200)) wrong.push('password');
  }
  if (route.kind === 'charge') {
    if (!isString(body['userId'], 0, Number.POSITIVE_INFINITY) || !UUID.test(body['userId'] as string)) {
      wrong.push('userId');
    }
  }
  if (route.kind === 'charge' || route.kind === 'checkout') {
    const amount = body['amountCents'];
    if (typeof amount !== 'number' || !Number.isInteger(amount) || amount < 1 || amount > MAX_AMOUNT_CENTS) {
      wrong.push('amountCents');
    }
    const key = headerAsRead(request.keyLines);
    const keyRequired = route.kind === 'charge';
    if ((key === undefined && keyRequired) || (key !== undefined && (key.length < 1 || key.length > 200))) {
      wrong.push('Idempotency-Key');
    }
  }
  if (wrong.length > 0) return invalid([400], wrong);

  const accepted: Record<RouteKind, number[]> = {
    signup: [201, 409],
    charge: [201, 200, 422],
    checkout: [201, 409, 422],
  };
  const statuses = new Set<number | undefined>(accepted[route.kind]);
  if (route.kind !== 'signup' && budget !== undefined) {
    // A spent budget is refused before any work: 504, and nothing written (the user of a split checkout
    // included).
    if (budget === 0) return invalid([504]);
    if (budget < TIGHT_BUDGET_MS) statuses.add(504);
  }
  return { statuses, fields: new Set(), valid: true };
}

/**
 * What a request of `method` on `target` with no usable body may be answered: 400 when Node cannot
 * parse it, 404 for an unknown path, 405 for a known path and another method, and for an allowed method
 * the route's own answer (200 for GET /healthz and /metrics, 200 or 400 for GET /charges by its userId,
 * 400 for a POST without a JSON body). A CONNECT has no handler: Node drops the connection.
 */
export function expectedForRoute(service: FuzzServiceName, method: string, target: Buffer): Expectation {
  if (!METHODS.includes(method)) return invalid([400]);
  if (!targetAccepted(target)) {
    // Node reads `GET /a b HTTP/1.1` as the target `/a` when what follows the space looks like
    // padding; anything else in the target is a 400.
    const space = target.indexOf(0x20);
    if (space <= 0 || !targetAccepted(target.subarray(0, space))) return invalid([400]);
    const asPrefix = expectedForRoute(service, method, target.subarray(0, space));
    return { ...asPrefix, statuses: new Set([400, ...asPrefix.statuses]), fields: 'any' };
  }
  if (method === 'CONNECT') return invalid([undefined, 400]);
  const url = target.toString('latin1');
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const allowed = ROUTE_METHODS[service][path];
  if (allowed === undefined) return invalid([404]);
  if (allowed !== method) return invalid([405]);
  // The body is a short hostile string; which of its fields is named first is not the point here.
  if (method === 'POST') return { statuses: new Set([400]), fields: 'any', valid: false };
  if (path !== '/charges') return { statuses: new Set([200]), fields: new Set(), valid: true };
  const userId = new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1)).get('userId');
  return userId !== null && UUID.test(userId)
    ? { statuses: new Set([200]), fields: new Set(), valid: true }
    : invalid([400], ['userId']);
}

function invalid(statuses: readonly (number | undefined)[], fields: readonly string[] = []): Expectation {
  return { statuses: new Set(statuses), fields: new Set(fields), valid: false };
}

function isString(value: unknown, minLength: number, maxLength: number): boolean {
  return (
    typeof value === 'string' &&
    !value.includes('\u0000') &&
    value.length >= minLength &&
    value.length <= maxLength
  );
}
