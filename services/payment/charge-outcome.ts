import { classifyUpstreamFailure, UpstreamError, type UpstreamFailure } from './upstream-failure.ts';

/**
 * What a failed charge call says about the ledger:
 *
 * - `not_charged`: the charge surely did not happen, so the saga may compensate at once.
 * - `unknown`: payment-service may have committed it and only the answer was lost, so nobody may guess;
 *   ask payment-service later.
 */
export type ChargeOutcome = 'not_charged' | 'unknown';

/**
 * The outcome one failure proves on its own. Nothing was sent (`refused`, `dns`) or our own policy
 * refused to send (`circuit_open`, `bulkhead_full`), or payment-service answered with a status, which it
 * only does once its transaction is over (a 5xx from it means rolled back; a COMMIT whose answer it lost
 * is the one case this cannot see). Our deadline, a reset connection and anything unrecognised leave
 * the request possibly processed.
 *
 * @example
 *   chargeOutcomeForFailure({ cause: 'refused', detail: '' }); // 'not_charged'
 *   chargeOutcomeForFailure({ cause: 'deadline', detail: '' }); // 'unknown'
 */
export function chargeOutcomeForFailure(failure: UpstreamFailure): ChargeOutcome {
  switch (failure.cause) {
    case 'refused':
    case 'dns':
    case 'circuit_open':
    case 'bulkhead_full':
    case 'upstream_status':
      return 'not_charged';
    case 'deadline':
    case 'reset':
    case 'unknown':
      return 'unknown';
  }
}

/**
 * The outcome of a whole failed charge call. When the gateway counted its attempts, those decide: no
 * attempt in doubt means nothing can have been charged, even when the call then ran out of time (in a
 * bulkhead queue, or in a backoff after a refusal); one attempt in doubt is enough for `unknown`, even
 * when the last one was refused. Without a count, the final cause decides.
 *
 * @example
 *   chargeOutcomeOf(new UpstreamError('payment-service', { cause: 'refused', detail: '' }, { attemptsInDoubt: 1 }));
 *   // 'unknown': an earlier attempt timed out
 */
export function chargeOutcomeOf(error: unknown): ChargeOutcome {
  if (error instanceof UpstreamError) {
    if (error.attemptsInDoubt !== undefined) return error.attemptsInDoubt === 0 ? 'not_charged' : 'unknown';
    return chargeOutcomeForFailure(error.failure);
  }
  return chargeOutcomeForFailure(classifyUpstreamFailure(error));
}
