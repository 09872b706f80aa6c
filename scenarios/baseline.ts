/**
 * The baseline scenario: no faults at all. What does the split cost on a perfectly healthy network?
 * Every checkout in split crosses one more network hop and one more database commit.
 *
 * A realistic password hash takes tens of milliseconds of CPU, and its run-to-run wobble is larger than
 * the hop itself. So here the hash is made cheap: what is left of a checkout is mostly the work that
 * the split changes.
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
  scryptN: 1024,

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
      says:
        'Split checkout is not faster than monolith checkout: the extra hop and commit are not free ' +
        '(x1.19 to x1.55 over 7 local runs with the cheap hash).',
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
    'Password hashing is cheap in this scenario (SCRYPT_N=1024, about a millisecond), so a checkout is mostly database commits and, in split, the hop. With a realistic hash (tens of milliseconds) the hop would be lost in the noise — on a healthy network, that is how small it is.',
    'Outbound calls in flight on signup-service: near zero when payment-service answers fast.',
  ],
});
