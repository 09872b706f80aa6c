import {
  context,
  createContextKey,
  defaultTextMapGetter,
  defaultTextMapSetter,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';

/**
 * The small vocabulary the services trace with. Spans are manual: every span the lab reads is named here
 * or at its one call site, so the waterfall does not depend on what an auto-instrumentation decides.
 *
 * A span is made only under a server span of a traced service: the server span puts its service's tracer
 * into the request's context, and {@link inSpan} takes it from there. Work outside any request (the outbox
 * relay, the saga reconciler) and every service whose tracing is off make no spans and pay one context
 * lookup per call.
 */

/** Where a server span leaves its service's tracer for the spans below it. */
const TRACER_KEY = createContextKey('splitlab service tracer');

/** What `inSpan` hands to its work when nothing is traced: every method is a no-op. */
const NON_RECORDING_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * The only propagation the services do: W3C `traceparent` (and `tracestate`) on HTTP headers. Set with
 * the first traced service, so that @opentelemetry/core is loaded only when tracing is on.
 */
let propagator: TextMapPropagator | undefined;

/** Each traced service's tracer by SERVICE_NAME; several services can share a process in tests. */
const tracersByService = new Map<string, Tracer>();

/** Called by start-tracing.ts; the service's server spans use `tracer` from now on. */
export function registerServiceTracer(
  service: string,
  tracer: Tracer,
  w3cPropagator: TextMapPropagator,
): void {
  tracersByService.set(service, tracer);
  propagator = w3cPropagator;
}

/** Undoes {@link registerServiceTracer}, unless another tracer has been registered for `service` since. */
export function unregisterServiceTracer(service: string, tracer: Tracer): void {
  if (tracersByService.get(service) === tracer) tracersByService.delete(service);
}

export type HttpHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface ServerSpan {
  readonly span: Span;
  /** Run the request's handler in this context: the span is active and carries the service's tracer. */
  readonly context: Context;
}

/**
 * Starts the SERVER span of one request, a child of the caller's `traceparent` when there is one.
 * `undefined` when `service` is not traced.
 *
 * @example
 *   const traced = startServerSpan('payment-service', 'POST', '/charge', request.headers);
 */
export function startServerSpan(
  service: string | undefined,
  method: string,
  path: string,
  headers: HttpHeaders,
): ServerSpan | undefined {
  const tracer = service === undefined ? undefined : tracersByService.get(service);
  if (tracer === undefined) return undefined;
  const parent = propagator?.extract(ROOT_CONTEXT, headers, defaultTextMapGetter) ?? ROOT_CONTEXT;
  const span = tracer.startSpan(
    // Paths are a handful of fixed routes; a hostile client's 12 KB path must not become a 12 KB name.
    `${truncate(method, 20)} ${truncate(path, 100)}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        [ATTR_HTTP_REQUEST_METHOD]: truncate(method, 20),
        [ATTR_URL_PATH]: truncate(path, 1_000),
      },
    },
    parent,
  );
  return { span, context: trace.setSpan(parent.setValue(TRACER_KEY, tracer), span) };
}

/**
 * Ends a server span with the answer's status: ERROR on a 5xx or when the client left, with the cause
 * the answer's body names (see {@link serverSpanOutcome}).
 */
export function endServerSpan(span: Span, status: number, body: unknown, clientLeft: boolean): void {
  const outcome = serverSpanOutcome(status, body, clientLeft);
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, outcome.status);
  if (outcome.failure !== undefined) recordFailure(span, outcome.failure);
  span.end();
}

/**
 * What a server span records of an answer. A client that left got nothing, which is a 499 (nginx's
 * convention, as the services count it); a failure's message is the `cause` the error body names, else
 * `http_<status>`.
 *
 * @example
 *   serverSpanOutcome(504, { error: 'late', cause: 'deadline' }, false); // { status: 504, failure: 'deadline' }
 *   serverSpanOutcome(201, { userId: 'u1' }, true); // { status: 499, failure: 'http_499' }
 */
export function serverSpanOutcome(
  status: number,
  body: unknown,
  clientLeft: boolean,
): { status: number; failure: string | undefined } {
  const answered = clientLeft ? 499 : status;
  if (!clientLeft && status < 500) return { status: answered, failure: undefined };
  const cause = (body as { cause?: unknown } | null | undefined)?.cause;
  return { status: answered, failure: typeof cause === 'string' && cause ? cause : `http_${answered}` };
}

export interface InSpanOptions {
  /** INTERNAL unless said otherwise. */
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  /** The failure's cause for the span's status message; {@link failureCause} by default. */
  readonly causeOf?: (error: unknown) => string;
}

/**
 * Runs `work` inside a child span of the active one, ended when `work` settles; a rejection sets the
 * span's status to ERROR with the failure's cause and is passed on. Outside a traced request, `work` runs
 * as it is, with a span whose methods do nothing.
 *
 * @example
 *   const hash = await inSpan('scrypt hash', () => scryptAsync(password, salt, cost));
 */
export async function inSpan<T>(
  name: string,
  work: (span: Span) => Promise<T>,
  options: InSpanOptions = {},
): Promise<T> {
  const active = context.active();
  const tracer = active.getValue(TRACER_KEY) as Tracer | undefined;
  if (tracer === undefined) return await work(NON_RECORDING_SPAN);
  return await tracer.startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {} },
    active,
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        recordFailure(span, (options.causeOf ?? failureCause)(error));
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Marks a span failed; `cause` is a word a report can group by: `deadline`, `refused`, `database`, ... */
export function recordFailure(span: Span, cause: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: cause });
}

/**
 * Adds a policy decision (`retry`, `circuit opened`, ...) to the active span. For events fired by a shared
 * policy object, whose listener cannot know the call: it runs in that call's async context.
 */
export function addEventToActiveSpan(name: string, attributes?: Attributes): void {
  trace.getActiveSpan()?.addEvent(name, attributes);
}

/**
 * `fn`, bound to the active context: for a callback that a library stores and calls later from another
 * request's context (cockatiel's bulkhead queue), so that its spans still join the right trace.
 */
export function bindToActiveContext<F extends (...args: never[]) => unknown>(fn: F): F {
  return context.bind(context.active(), fn);
}

/**
 * Writes the active span's `traceparent` into `headers`, so the callee's spans join this trace. Does
 * nothing outside a traced request.
 *
 * @example
 *   const headers: Record<string, string> = { 'content-type': 'application/json' };
 *   injectTraceContext(headers); // headers.traceparent = '00-<trace id>-<span id>-01'
 */
export function injectTraceContext(headers: Record<string, string>): void {
  propagator?.inject(context.active(), headers, defaultTextMapSetter);
}

/** The active span's ids, as every log line written inside a span carries them; `undefined` outside one. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return undefined;
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/**
 * The cause a failed span records for a thrown error, from its stable `code`: the same words the error
 * bodies use (`deadline`, `database`, the upstream failure's cause), `client_closed` for a client that
 * left, else the code in lower case, else `error`.
 *
 * @example
 *   failureCause(new DeadlineExceededError('late')); // 'deadline'
 *   failureCause(new DuplicateEmailError('taken')); // 'duplicate_email'
 */
export function failureCause(error: unknown): string {
  for (let current = error, depth = 0; depth < 5; depth += 1) {
    const coded = current as { code?: unknown; failure?: { cause?: unknown }; cause?: unknown } | null;
    const code = typeof coded === 'object' && coded !== null ? coded.code : undefined;
    if (typeof code !== 'string') return 'error';
    switch (code) {
      case 'DEADLINE_EXCEEDED':
        return 'deadline';
      case 'DATABASE_UNAVAILABLE':
        return 'database';
      case 'CLIENT_CLOSED_REQUEST':
        return 'client_closed';
      case 'UPSTREAM_FAILURE': {
        const upstreamCause = coded?.failure?.cause;
        return typeof upstreamCause === 'string' ? upstreamCause : 'unknown';
      }
      case 'CHARGE_AFTER_SIGNUP_FAILED':
      case 'SAGA_CHECKOUT_FAILED':
        // Wrappers around the charge's own failure: its cause is the one that says what happened.
        current = coded?.cause;
        continue;
      default:
        return code.toLowerCase();
    }
  }
  return 'error';
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
