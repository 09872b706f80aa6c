import type { UpstreamFailure } from '../payment/upstream-failure.ts';
import { statusForUpstreamCause } from '../payment/upstream-failure.ts';
import type { Logger } from '../runtime/log.ts';
import type { JsonReply } from './router.ts';

type Coded = Error & { code: string } & Record<string, unknown>;

function coded(error: unknown): Coded | undefined {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string'
    ? (error as Coded)
    : undefined;
}

/**
 * Turns any thrown error into the JSON answer the client sees, keyed on the error's stable `code`.
 * Every error body is `{ error, ... }`; bad input names its `field`, infrastructure failures name their
 * `cause`. Anything unrecognised is a bug: 500, logged.
 *
 * @example
 *   errorReply(new InvalidFieldError('email is required', 'email'), log);
 *   // { status: 400, body: { error: 'email is required', field: 'email' } }
 */
export function errorReply(error: unknown, log: Logger): JsonReply {
  const known = coded(error);
  switch (known?.code) {
    case 'INVALID_FIELD':
      return { status: 400, body: { error: known.message, field: known['field'] } };
    case 'INVALID_BODY':
      return { status: 400, body: { error: known.message } };
    case 'MALFORMED_JSON':
      return { status: 400, body: { error: 'malformed JSON body', detail: known.message } };
    case 'PAYLOAD_TOO_LARGE':
      // We stopped reading mid-body; the connection cannot carry another request.
      return {
        status: 413,
        body: { error: known.message, limitBytes: known['limitBytes'] },
        headers: { connection: 'close' },
      };
    case 'ROUTE_NOT_FOUND':
      return { status: 404, body: { error: known.message, path: known['path'] } };
    case 'METHOD_NOT_ALLOWED': {
      const allow = (known['allow'] as readonly string[]).join(', ');
      return { status: 405, body: { error: known.message, allow }, headers: { allow } };
    }
    case 'DUPLICATE_EMAIL':
      return { status: 409, body: { error: known.message, field: known['field'] } };
    case 'IDEMPOTENCY_KEY_REUSED':
      return { status: 422, body: { error: known.message, field: known['field'] } };
    case 'DEADLINE_EXCEEDED':
      return { status: 504, body: { error: known.message, cause: 'deadline' } };
    case 'DATABASE_UNAVAILABLE':
      return {
        status: 503,
        body: { error: 'database unavailable', cause: 'database', detail: known.message },
      };
    case 'CLIENT_CLOSED_REQUEST':
      // Nobody will read this; 499 is nginx's convention and keeps such requests apart in the counters.
      return { status: 499, body: { error: known.message } };
    case 'UPSTREAM_FAILURE': {
      const failure = known['failure'] as UpstreamFailure;
      if (failure.cause === 'upstream_status' && failure.status === 422) {
        // payment-service refuses a charge with 422 only when its Idempotency-Key was already used for
        // another charge, and a checkout sends the client's own key: the client's mistake, answered as
        // the monolith answers it rather than as a broken payment-service (a 502 invites a retry).
        return {
          status: 422,
          body: { error: known.message, ...failure, field: 'Idempotency-Key' },
        };
      }
      return {
        status: statusForUpstreamCause(failure.cause),
        body: { error: known.message, ...failure },
      };
    }
    case 'CHARGE_AFTER_SIGNUP_FAILED': {
      // The user row is committed but unpaid: say which one, so the orphan can be traced.
      const inner = errorReply(known.cause, log);
      return { ...inner, body: { ...(inner.body as object), userId: known['userId'] } };
    }
    case 'SAGA_CHECKOUT_FAILED': {
      // The charge's own answer, plus what the saga did about the user: deleted, or pending until asked.
      const inner = errorReply(known.cause, log);
      return {
        ...inner,
        body: {
          ...(inner.body as object),
          userId: known['userId'],
          outcome: known['outcome'],
          compensated: known['compensated'],
        },
      };
    }
    default:
      log.throttled('unexpected_error', {
        message: error instanceof Error ? error.message : String(error),
        stack: error instanceof Error ? error.stack : undefined,
      });
      return { status: 500, body: { error: 'internal error' } };
  }
}
