/**
 * The versions of the services' code a deploy can roll out, named by what payment's `/charge` contract is:
 *
 * - `v1`: `/charge` takes `{ userId, amountCents }`; signup-service sends that.
 * - `v2`: `/charge` requires a `currency` and rejects a v1 body (400, cause `invalid_request`): a breaking
 *   change. signup-service v2 sends the currency.
 * - `v2-expand`: the expand step of expand/contract: payment-service accepts both bodies (a body without a
 *   currency is charged in the old default currency); signup-service behaves as v2.
 *
 * In the monolith (and the modular monolith) both modules ship in one binary, so they always run the same
 * version: they cannot be skewed.
 *
 * Read from SERVICE_VERSION (default `v1`).
 */
export const SERVICE_VERSIONS = ['v1', 'v2', 'v2-expand'] as const;
export type ServiceVersion = (typeof SERVICE_VERSIONS)[number];
export const DEFAULT_SERVICE_VERSION: ServiceVersion = 'v1';
