/**
 * The breaker scenario: payment-service flaps, hanging for a while, then answering, then hanging again.
 * A circuit breaker stops calling a dependency that keeps failing: checkouts fail in milliseconds
 * instead of waiting for a deadline. The price: after a heal, it takes the breaker a while to try again.
 */
import { partition } from '../lab/vocabulary/faults.ts';
import { defineScenario } from '../lab/scenario/define-scenario.ts';
import { monolith, split } from '../lab/vocabulary/variants.ts';
import { STEADY_LOAD } from './_steady-load.ts';

export default defineScenario({
  name: 'breaker',
  title: 'What does a circuit breaker trade when payment-service keeps hanging?',
  claim:
    'Network calls fail; you need retries, timeouts and circuit breakers. A breaker turns slow failures ' +
    'into fast ones, and a recovered dependency into a few more seconds of errors.',

  load: STEADY_LOAD,

  // split waits its 5 s deadline on every call; split/breaker retries (1 s attempts) behind a breaker
  // that opens after 5 failures in a row and tries again (half-open) 5 s later.
  variants: [monolith(), split(), split({ policy: 'breaker' })],

  timeline: [
    { name: 'baseline', durationS: 10, story: 'Healthy.' },
    {
      name: 'hang',
      durationS: 15,
      story: 'payment-api partitioned: calls hang. The breaker sees failures pile up and opens.',
      faults: [partition('payment-api')],
    },
    { name: 'up', durationS: 10, story: 'The link is back for a while.' },
    {
      name: 'hang-again',
      durationS: 15,
      story: 'Hanging again.',
      faults: [partition('payment-api')],
    },
    { name: 'recovery', durationS: 15, story: 'Healed for good.' },
  ],

  hypothesis: [
    {
      id: 'deadline-waits',
      says: 'Without a breaker, every failed checkout waits out the 5 s deadline.',
      deployment: 'split',
      route: 'checkout',
      phase: 'hang',
      metric: 'failureLatencyP50Ms',
      atLeast: 4500,
    },
    {
      id: 'breaker-fails-fast',
      says: 'Once open, the breaker fails checkouts at once: the median failure takes well under a second.',
      deployment: 'split/breaker',
      route: 'checkout',
      phase: 'hang',
      metric: 'failureLatencyP50Ms',
      atMost: 500,
    },
    {
      id: 'breaker-says-so',
      says: 'Most failures say why: "circuit_open".',
      deployment: 'split/breaker',
      route: 'checkout',
      phase: 'hang-again',
      metric: 'causeShare:circuit_open',
      atLeast: 0.6,
    },
    {
      id: 'deadline-recovers-at-once',
      says: 'Without a breaker, checkout works again as soon as the link heals.',
      deployment: 'split',
      route: 'checkout',
      phase: 'hang-again',
      metric: 'recoverySeconds',
      atMost: 2,
    },
    {
      id: 'breaker-recovers-later',
      says: 'The breaker needs its half-open trial first: recovery takes a few seconds more, but no more than its 5 s wait and a trial.',
      deployment: 'split/breaker',
      route: 'checkout',
      phase: 'hang-again',
      metric: 'recoverySeconds',
      atMost: 8,
    },
  ],

  whatToLookAt: [
    'Split checkout latency during the hangs: a flat line at 5 s without a breaker; with it, a few slow seconds and then failures in milliseconds.',
    '"Services per phase" for split/breaker: the circuit goes closed -> open -> halfOpen -> open ... and outbound calls in flight stay low.',
    'After each heal, split/breaker keeps failing ("circuit_open") until its half-open trial succeeds, 0 to 5 s later depending on when the breaker last opened: the breaker trades errors for latency, and a few seconds of availability for it (here 80 % success in the "up" phase against 100 % without a breaker).',
    'cockatiel moves Open -> HalfOpen only when the next call arrives, so the state reads "open" until then.',
  ],
});
