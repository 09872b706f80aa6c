import { MAX_AMOUNT_CENTS } from '../payment/charge-request.ts';
import { InvalidFieldError, requireInteger, requireObject, requireString } from '../runtime/fields.ts';

export interface SignupRequest {
  readonly email: string;
  readonly password: string;
}

export interface CheckoutRequest extends SignupRequest {
  readonly amountCents: number;
}

/**
 * Validates a POST /signup body. Throws InvalidFieldError naming the first bad field.
 *
 * @example
 *   parseSignupRequest({ email: 'ada@example.com', password: 'correct horse' });
 */
export function parseSignupRequest(body: unknown): SignupRequest {
  const object = requireObject(body);
  const email = requireString(object, 'email', { minLength: 3, maxLength: 320 });
  if (!email.includes('@')) throw new InvalidFieldError('email must contain @', 'email');
  const password = requireString(object, 'password', { minLength: 8, maxLength: 200 });
  return { email, password };
}

/**
 * Validates a POST /checkout body: a signup plus the first charge.
 *
 * @example
 *   parseCheckoutRequest({ email: 'ada@example.com', password: 'correct horse', amountCents: 1999 });
 */
export function parseCheckoutRequest(body: unknown): CheckoutRequest {
  const signup = parseSignupRequest(body);
  const amountCents = requireInteger(requireObject(body), 'amountCents', { min: 1, max: MAX_AMOUNT_CENTS });
  return { ...signup, amountCents };
}
