/**
 * The latency scenario: payment-service is suddenly far away. Nothing fails; everything that crosses
 * the link gets slower, and only what crosses it.
 */
import { latency } from '../lab/vocabulary/faults.ts';
import { defineScenario } from '../lab/scenario/define-scenario.ts';
import { STEADY_LOAD } from './_steady-load.ts';

export default defineScenario({
  name: 'latency',
  title: 'How much slower does checkout get when payment-service is 100 ms further away?',
  claim: 'Network calls add latency. In the monolith the same call is a function call.',

  load: STEADY_LOAD,

  timeline: [
    { name: 'baseline', durationS: 10, story: 'Healthy.' },
    {
      name: 'slow-link',
      durationS: 20,
      story:
        'Every byte on payment-api waits 50 ms (± 5 ms) in each direction: about 100 ms more per round trip, ' +
        'the distance between two regions.',
      faults: [latency('payment-api', { ms: 50, jitterMs: 5, direction: 'both' })],
    },
    { name: 'recovery', durationS: 10, story: 'The delay is removed.' },
  ],

  hypothesis: [
    {
      id: 'split-checkout-pays-the-delay',
      says: 'Split checkout pays the delay: its median is at least 120 ms (a baseline of a few tens of ms plus ~100 ms).',
      deployment: 'split',
      route: 'checkout',
      phase: 'slow-link',
      metric: 'latencyP50Ms',
      atLeast: 120,
    },
    {
      id: 'split-checkout-still-succeeds',
      says: 'Slow is not broken: 100 ms is far below the 5 s deadline, so checkouts still succeed.',
      deployment: 'split',
      route: 'checkout',
      phase: 'slow-link',
      metric: 'successRate',
      atLeast: 0.99,
    },
    {
      id: 'monolith-checkout-unchanged',
      says: 'Monolith checkout has no link to slow down: its median stays within 1.5x of its baseline.',
      deployment: 'monolith',
      route: 'checkout',
      phase: 'slow-link',
      metric: 'latencyP50Ms',
      relativeTo: { phase: 'baseline' },
      atMost: 1.5,
    },
    {
      id: 'split-pay-unchanged',
      says: 'Split pay reaches payment-service over its own edge link: within 1.5x of its baseline.',
      deployment: 'split',
      route: 'pay',
      phase: 'slow-link',
      metric: 'latencyP50Ms',
      relativeTo: { phase: 'baseline' },
      atMost: 1.5,
    },
  ],

  whatToLookAt: [
    'The split checkout latency chart: a step of about 100 ms for exactly the slow-link window.',
    'Monolith checkout and both pay routes: flat. Latency hurts only the calls that cross the slow link.',
    "Outbound calls in flight on signup-service rise with the delay: at 8 checkouts/s, 100 ms more means almost one more call open at any moment (Little's law).",
  ],
});
