import { InvalidFieldError, requireInteger, requireObject, requireString } from '../runtime/fields.ts';

/** The largest single charge: 100 000.00 in the smallest currency unit. */
export const MAX_AMOUNT_CENTS = 10_000_000;

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

export interface ChargeBody {
  readonly userId: string;
  readonly amountCents: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Validates a POST /pay or /charge body. The user id is lower-cased so that a replay compares equal to the
 * uuid PostgreSQL hands back.
 *
 * @example
 *   parseChargeBody({ userId: '0b7e...', amountCents: 1999 });
 */
export function parseChargeBody(body: unknown): ChargeBody {
  const object = requireObject(body);
  const userId = requireString(object, 'userId');
  if (!UUID.test(userId)) throw new InvalidFieldError('userId must be a uuid', 'userId');
  const amountCents = requireInteger(object, 'amountCents', { min: 1, max: MAX_AMOUNT_CENTS });
  return { userId: userId.toLowerCase(), amountCents };
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
