/**
 * Any failure to talk to PostgreSQL that the domain does not handle itself (connection refused or reset,
 * pool timeout, query timeout, server shutting down). Answered as 503 `cause: 'database'`.
 */
export class DatabaseUnavailableError extends Error {
  readonly code = 'DATABASE_UNAVAILABLE';
  override name = 'DatabaseUnavailableError';
}

/** Errors that already carry a domain meaning and must pass through database wrappers untouched. */
const PASS_THROUGH_CODES = new Set([
  'DATABASE_UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'CLIENT_CLOSED_REQUEST',
  'DUPLICATE_EMAIL',
  'IDEMPOTENCY_KEY_REUSED',
  'UPSTREAM_FAILURE',
  'CHARGE_AFTER_SIGNUP_FAILED',
  'SAGA_CHECKOUT_FAILED',
  'INVALID_FIELD',
]);

/**
 * Wraps a raw `pg` error as DatabaseUnavailableError; leaves errors with a domain `code` alone.
 *
 * @example
 *   try { await pool.query('select 1'); } catch (error) { throw asDatabaseError(error, 'health check'); }
 */
export function asDatabaseError(error: unknown, operation: string): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && PASS_THROUGH_CODES.has(code)) return error as Error;
  const message = error instanceof Error ? error.message : String(error);
  const detail = typeof code === 'string' ? `${code}: ${message}` : message;
  return new DatabaseUnavailableError(`${operation} failed: ${detail}`, { cause: error });
}

/** PostgreSQL `unique_violation` (SQLSTATE 23505), optionally of one named constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const candidate = error as { code?: unknown; constraint?: unknown } | null;
  return candidate?.code === '23505' && (constraint === undefined || candidate.constraint === constraint);
}
