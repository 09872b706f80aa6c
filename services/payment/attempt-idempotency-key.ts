import { randomUUID } from 'node:crypto';

/**
 * `on`: every attempt of one checkout carries the checkout's key, so payment-service replays a charge that
 * already committed. `off`: the mistake the lab wants to show, a key per attempt, so a retry after a
 * commit whose answer came too late charges a second time.
 */
export type IdempotencyMode = 'on' | 'off';

export const IDEMPOTENCY_MODES: readonly IdempotencyMode[] = ['on', 'off'];

/**
 * The Idempotency-Key one HTTP attempt sends.
 *
 * @example
 *   idempotencyKeyForAttempt('on', 'checkout-42');  // 'checkout-42', on every attempt
 *   idempotencyKeyForAttempt('off', 'checkout-42'); // a fresh uuid on every attempt
 */
export function idempotencyKeyForAttempt(
  mode: IdempotencyMode,
  checkoutKey: string,
  newKey: () => string = randomUUID,
): string {
  return mode === 'on' ? checkoutKey : newKey();
}
