/**
 * The baseline scenario: no faults at all. What does the split cost on a perfectly healthy network?
 * Every checkout in split crosses one more network hop and one more database commit.
 */
import { defineScenario } from '../lab/scenario/define-scenario.ts';
import { STEADY_LOAD } from './_steady-load.ts';

export default defineScenario({
  name: 'baseline',
  title: 'What does the network hop cost when nothing fails?',
  claim:
    'In the monolith, data moves between functions in one process: no network latency, no serialization. ' +
    'In split, signup calls payment over HTTP: every checkout pays for a network call.',

  load: STEADY_LOAD,

  timeline: [
    { name: 'warm-up', durationS: 5, story: 'Connections open, caches fill. Not judged.' },
    {
      name: 'steady',
      durationS: 25,
      story: 'Nothing fails. Any difference is the price of the split itself.',
    },
  ],

  hypothesis: [
    {
      id: 'monolith-all-ok',
      says: 'A healthy monolith answers every checkout.',
      deployment: 'monolith',
      route: 'checkout',
      phase: 'steady',
      metric: 'successRate',
      atLeast: 0.99,
    },
    {
      id: 'split-all-ok',
      says: 'A healthy split deployment answers every checkout too.',
      deployment: 'split',
      route: 'checkout',
      phase: 'steady',
      metric: 'successRate',
      atLeast: 0.99,
    },
    {
      id: 'split-checkout-costs-more',
      says: 'Split checkout is not faster than monolith checkout: the extra hop and commit are not free.',
      deployment: 'split',
      route: 'checkout',
      phase: 'steady',
      metric: 'latencyP50Ms',
      relativeTo: { deployment: 'monolith' },
      atLeast: 1,
    },
    {
      id: 'pay-costs-the-same',
      says: 'Pay is one hop in both deployments, so it costs about the same (within 50 %).',
      deployment: 'split',
      route: 'pay',
      phase: 'steady',
      metric: 'latencyP50Ms',
      relativeTo: { deployment: 'monolith' },
      atLeast: 0.5,
      atMost: 1.5,
    },
  ],

  whatToLookAt: [
    'The checkout p50 of each deployment in the steady phase: the difference is what one HTTP call and a second commit cost here.',
    'Signup and checkout latencies are dominated by scrypt password hashing (tens of milliseconds of CPU); the hop is small next to it — on a healthy network.',
    'Outbound calls in flight on signup-service: near zero when payment-service answers fast.',
  ],
});
