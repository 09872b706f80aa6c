import { InvalidFieldError, requireInteger, requireObject, requireString } from '../runtime/fields.ts';
import type { ServiceVersion } from '../runtime/service-version.ts';

/** The largest single charge: 100 000.00 in the smallest currency unit. */
export const MAX_AMOUNT_CENTS = 10_000_000;

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/**
 * The currency of every charge before /charge v2 made callers name one: what a v1 body is charged in, and
 * the `payments.currency` column's default.
 */
export const DEFAULT_CURRENCY = 'EUR';

export interface ChargeBody {
  readonly userId: string;
  readonly amountCents: number;
  /** ISO 4217 code, e.g. `EUR`. */
  readonly currency: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CURRENCY = /^[A-Z]{3}$/;

/**
 * Validates a POST /pay or /charge body as the given version of the contract reads it (see
 * service-version.ts). The user id is lower-cased so that a replay compares equal to the uuid PostgreSQL
 * hands back.
 *
 * - `v1`: `{ userId, amountCents }`; a `currency` field is ignored (a tolerant reader), the charge is in
 *   DEFAULT_CURRENCY.
 * - `v2`: `currency` is required (3 upper-case letters): a v1 body is refused, naming the field.
 * - `v2-expand`: both: `currency` is checked when present, DEFAULT_CURRENCY when absent.
 *
 * @example
 *   parseChargeBody({ userId: '0b7e...', amountCents: 1999 }); // { ..., currency: 'EUR' }
 *   parseChargeBody({ userId: '0b7e...', amountCents: 1999 }, 'v2'); // throws InvalidFieldError (currency)
 */
export function parseChargeBody(body: unknown, version: ServiceVersion = 'v1'): ChargeBody {
  const object = requireObject(body);
  const userId = requireString(object, 'userId');
  if (!UUID.test(userId)) throw new InvalidFieldError('userId must be a uuid', 'userId');
  const amountCents = requireInteger(object, 'amountCents', { min: 1, max: MAX_AMOUNT_CENTS });
  return { userId: userId.toLowerCase(), amountCents, currency: readCurrency(object, version) };
}

function readCurrency(object: Readonly<Record<string, unknown>>, version: ServiceVersion): string {
  if (version === 'v1') return DEFAULT_CURRENCY;
  const present = object['currency'] !== undefined && object['currency'] !== null;
  if (!present) {
    if (version === 'v2-expand') return DEFAULT_CURRENCY;
    throw new InvalidFieldError(
      `currency is required by /charge v2: send an ISO 4217 code such as "${DEFAULT_CURRENCY}" ` +
        '(a v1 body without it is refused)',
      'currency',
    );
  }
  const currency = object['currency'];
  if (typeof currency !== 'string' || !CURRENCY.test(currency)) {
    throw new InvalidFieldError(
      `currency must be an ISO 4217 code of 3 upper-case letters such as "${DEFAULT_CURRENCY}"`,
      'currency',
    );
  }
  return currency;
}

/**
 * Validates the `userId` query parameter of GET /charges: required, a uuid, lower-cased like the body's.
 *
 * @example
 *   parseUserIdQuery('0B7E...'); // '0b7e...'
 *   parseUserIdQuery(undefined); // throws InvalidFieldError naming userId
 */
export function parseUserIdQuery(value: string | undefined): string {
  if (value === undefined || value === '') {
    throw new InvalidFieldError('userId query parameter is required, e.g. /charges?userId=<uuid>', 'userId');
  }
  if (!UUID.test(value)) throw new InvalidFieldError('userId must be a uuid', 'userId');
  return value.toLowerCase();
}

/**
 * Validates an `Idempotency-Key` header value (1..200 characters). Absent is an error only when required.
 *
 * @example
 *   parseIdempotencyKey('order-42', { required: true }); // 'order-42'
 *   parseIdempotencyKey(undefined, { required: false }); // undefined
 */
export function parseIdempotencyKey(value: string | undefined, options: { required: true }): string;
export function parseIdempotencyKey(
  value: string | undefined,
  options: { required: false },
): string | undefined;
export function parseIdempotencyKey(
  value: string | undefined,
  options: { required: boolean },
): string | undefined {
  if (value === undefined) {
    if (!options.required) return undefined;
    throw new InvalidFieldError(`${IDEMPOTENCY_KEY_HEADER} header is required`, IDEMPOTENCY_KEY_HEADER);
  }
  if (value.length < 1 || value.length > 200) {
    throw new InvalidFieldError(
      `${IDEMPOTENCY_KEY_HEADER} header must be 1 to 200 characters long`,
      IDEMPOTENCY_KEY_HEADER,
    );
  }
  return value;
}
