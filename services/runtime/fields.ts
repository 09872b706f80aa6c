/**
 * Thrown for a missing or ill-typed request field or header; answered as 400 `{ error, field }` so the
 * caller learns exactly which input to fix.
 */
export class InvalidFieldError extends Error {
  readonly code = 'INVALID_FIELD';
  override name = 'InvalidFieldError';
  readonly field: string;

  constructor(message: string, field: string) {
    super(message);
    this.field = field;
  }
}

/** Thrown when the body parsed but is not a JSON object; answered as 400. */
export class InvalidBodyError extends Error {
  readonly code = 'INVALID_BODY';
  override name = 'InvalidBodyError';
}

export type JsonObject = Readonly<Record<string, unknown>>;

/**
 * Narrows a parsed JSON body to an object.
 *
 * @example
 *   const body = requireObject(JSON.parse('{"email":"a@b"}'));
 */
export function requireObject(body: unknown): JsonObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidBodyError('request body must be a JSON object');
  }
  return body as JsonObject;
}

/**
 * Reads a required string field, checking its length in UTF-16 code units and refusing U+0000.
 *
 * @example
 *   requireString({ password: 'hunter22' }, 'password', { minLength: 8, maxLength: 200 }); // 'hunter22'
 */
export function requireString(
  body: JsonObject,
  field: string,
  limits: { minLength?: number; maxLength?: number } = {},
): string {
  const value = body[field];
  if (value === undefined || value === null) throw new InvalidFieldError(`${field} is required`, field);
  if (typeof value !== 'string') throw new InvalidFieldError(`${field} must be a string`, field);
  // PostgreSQL text cannot hold U+0000: let through, the INSERT failed and bad input became a 503.
  if (value.includes('\u0000')) {
    throw new InvalidFieldError(`${field} must not contain the NUL character (U+0000)`, field);
  }
  const { minLength = 0, maxLength = Number.POSITIVE_INFINITY } = limits;
  if (value.length < minLength || value.length > maxLength) {
    const range = Number.isFinite(maxLength) ? `${minLength} to ${maxLength}` : `at least ${minLength}`;
    throw new InvalidFieldError(`${field} must be ${range} characters long`, field);
  }
  return value;
}

/**
 * Reads a required integer field within `[min, max]`.
 *
 * @example
 *   requireInteger({ amountCents: 1999 }, 'amountCents', { min: 1, max: 10_000_000 }); // 1999
 */
export function requireInteger(body: JsonObject, field: string, range: { min: number; max: number }): number {
  const value = body[field];
  if (value === undefined || value === null) throw new InvalidFieldError(`${field} is required`, field);
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new InvalidFieldError(`${field} must be an integer`, field);
  }
  if (value < range.min || value > range.max) {
    throw new InvalidFieldError(`${field} must be between ${range.min} and ${range.max}`, field);
  }
  return value;
}
