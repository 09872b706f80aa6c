/**
 * The retry storm scenario: payment-service gets slow, not broken. A client that retries with a
 * per-attempt timeout shorter than the new latency turns "slow" into "failed", and sends payment-service
 * several times the load at the very moment it is struggling.
 *
 * Two more columns drive checkout with a closed model instead (autocannon, 4 connections): clients that
 * wait for their answer before sending again, as a worker pool or a batch job does. They slow down with
 * the system, so the same retries multiply the attempts per call but hardly the load payment-service
 * receives: the storm is an open-model phenomenon.
 */
import { latency } from '../lab/vocabulary/faults.ts';
import { defineScenario } from '../lab/scenario/define-scenario.ts';
import { monolith, split } from '../lab/vocabulary/variants.ts';

/** The closed-model columns' checkout: 4 clients, each sending its next checkout once the last is answered. */
const CLOSED_CHECKOUT = { model: 'closed', connections: 4 } as const;

export default defineScenario({
  name: 'retry-storm',
  title: 'Do retries help when payment-service gets slow, or do they multiply its load?',
  claim:
    'Splitting brings the need for retries, timeouts and circuit breakers; retries without care amplify ' +
    'load on the service that is already in trouble, and without idempotency they charge twice.',

  // Checkout is the route that calls payment-service; pay is kept small so the amplification is plain.
  load: { signup: { ratePerSecond: 2 }, pay: { ratePerSecond: 4 }, checkout: { ratePerSecond: 8 } },

  // Six columns: the monolith, split with one attempt and a 5 s deadline, split retrying (3 attempts
  // of 1 s each, exponential backoff, same idempotency key), the same retries without keys; then split
  // and split/retry again with checkout driven by a closed model.
  variants: [
    monolith(),
    split(),
    split({ policy: 'retry' }),
    split({ policy: 'retry', idempotency: false }),
    split({ name: 'split/closed' }),
    split({ policy: 'retry', name: 'split/retry-closed' }),
  ],
  loadByVariant: {
    'split/closed': { checkout: CLOSED_CHECKOUT },
    'split/retry-closed': { checkout: CLOSED_CHECKOUT },
  },

  timeline: [
    { name: 'baseline', durationS: 10, story: 'Healthy.' },
    {
      name: 'slow-payment',
      durationS: 20,
      story:
        'Every answer from payment-service to signup-service takes 1.2 s longer. Slow, but well inside the ' +
        '5 s deadline, and longer than the 1 s a retrying client gives each attempt.',
      faults: [latency('payment-api', { ms: 1200, direction: 'downstream' })],
    },
    { name: 'recovery', durationS: 10, story: 'Answers are prompt again.' },
  ],

  hypothesis: [
    {
      id: 'one-attempt-survives',
      says: 'With one attempt and a 5 s deadline, split checkout is slow but succeeds.',
      deployment: 'split',
      route: 'checkout',
      phase: 'slow-payment',
      metric: 'successRate',
      atLeast: 0.95,
    },
    {
      id: 'retries-turn-slow-into-failed',
      says:
        'Retrying with 1 s attempts, every attempt times out: split/retry checkout fails. (Checkouts still ' +
        'retrying when the delay is removed, about the last 3 s of the phase, get through.)',
      deployment: 'split/retry',
      route: 'checkout',
      phase: 'slow-payment',
      metric: 'successRate',
      atMost: 0.25,
    },
    {
      id: 'retried-checkout-shows-its-attempts',
      says:
        'The traces of failing split/retry checkouts show the storm: typically three client spans to ' +
        'payment-service, siblings under one call, each answered too late.',
      deployment: 'split/retry',
      route: 'checkout',
      phase: 'slow-payment',
      metric: 'trace:failureAttempts',
      atLeast: 3,
      atMost: 3,
    },
    {
      id: 'retries-are-bounded',
      says: 'Each checkout makes at most 3 attempts (2 retries), and about that many: bounded, but tripled.',
      deployment: 'split/retry',
      route: 'checkout',
      phase: 'slow-payment',
      metric: 'service:signup-service:attemptsPerCall',
      atLeast: 2.5,
      atMost: 3,
    },
    {
      id: 'retries-multiply-load',
      says: 'payment-service receives at least 1.8x the requests it gets from the one-attempt client.',
      deployment: 'split/retry',
      route: 'checkout',
      phase: 'slow-payment',
      metric: 'service:payment-service:requestsPerSecond',
      relativeTo: { deployment: 'split' },
      atLeast: 1.8,
    },
    {
      id: 'keys-prevent-double-charges',
      says: 'With the same idempotency key on every attempt, a retry of a charge that did commit is a replay: no double charge.',
      deployment: 'split/retry',
      route: 'checkout',
      phase: 'slow-payment',
      metric: 'audit:doubleCharges',
      atMost: 0,
    },
    {
      id: 'no-keys-double-charge',
      says: 'Without keys, each retry is a new charge: the audit finds users charged more than once.',
      deployment: 'split/retry-no-keys',
      route: 'checkout',
      phase: 'slow-payment',
      metric: 'audit:doubleCharges',
      atLeast: 20,
    },
    {
      id: 'closed-retries-still-triple-attempts',
      says:
        'Under a closed model the retrying client still makes about 3 attempts per checkout: each one ' +
        'times out after 1 s whoever sends it (measured 2.91 and 2.92 on local, 3.1 on containers). The ' +
        'ratio can pass 3: a call is counted in the second it begins and its attempts in the seconds they ' +
        'happen, so a call begun just before the phase brings its later attempts in, and with only about 20 ' +
        'closed-model checkouts in the phase one such call moves the ratio by 0.1.',
      deployment: 'split/retry-closed',
      route: 'checkout',
      phase: 'slow-payment',
      metric: 'service:signup-service:attemptsPerCall',
      atLeast: 2.5,
      atMost: 3.2,
    },
    {
      id: 'closed-clients-slow-down',
      says:
        'Closed-model clients slow down with the system: each waits out its three failing attempts, so ' +
        'split/retry-closed sends at most 0.6x the checkouts split/closed sends in the same phase ' +
        '(measured 0.34x and 0.36x).',
      deployment: 'split/retry-closed',
      route: 'checkout',
      phase: 'slow-payment',
      metric: 'closed:requests',
      relativeTo: { deployment: 'split/closed' },
      atMost: 0.6,
    },
    {
      id: 'closed-retries-barely-multiply-load',
      says:
        'So under a closed model the same retries hardly multiply the load payment-service receives: at ' +
        'most 1.3x the one-attempt closed column (measured 1.05x and 1.07x), where open-model arrivals ' +
        'made it 2.2x to 2.3x.',
      deployment: 'split/retry-closed',
      route: 'checkout',
      phase: 'slow-payment',
      metric: 'service:payment-service:requestsPerSecond',
      relativeTo: { deployment: 'split/closed' },
      atMost: 1.3,
    },
    {
      id: 'monolith-unaffected',
      says: 'The monolith has no payment-api link.',
      deployment: 'monolith',
      route: 'checkout',
      phase: 'slow-payment',
      metric: 'successRate',
      atLeast: 0.99,
    },
  ],

  whatToLookAt: [
    'The closed columns (split/closed, split/retry-closed): attempts per call is 3 again, but payment-service receives about as many requests per second as with one attempt, because each client waits 3 s for its failing checkout before it sends the next.',
    'Split checkout latency: about +1.2 s and still green with one attempt; red with retries, each failure after three 1 s attempts.',
    '"Services per phase": attempts per call about 3 for the retrying variants, and payment-service receiving about twice the requests per second.',
    'The audits: every attempt of split/retry committed the same charge once (replays); split/retry-no-keys charged most users three times.',
  ],
});
