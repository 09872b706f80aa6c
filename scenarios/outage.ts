/**
 * The outage scenario: the link to payment-service is down and says so. Compare with `partition`,
 * where the link says nothing: a refused connection is bad news that arrives fast.
 */
import { outage } from '../lab/vocabulary/faults.ts';
import { defineScenario } from '../lab/scenario/define-scenario.ts';
import { STEADY_LOAD } from './_steady-load.ts';

export default defineScenario({
  name: 'outage',
  title: 'What happens to checkout when payment-service refuses connections?',
  claim:
    'If the payment service is down, the caller gets an error back and must handle it: a failure mode ' +
    'that did not exist while payment was a function call.',

  load: STEADY_LOAD,

  timeline: [
    { name: 'baseline', durationS: 10, story: 'Healthy.' },
    {
      name: 'outage',
      durationS: 15,
      story:
        'The payment-api link is disabled: every new connection is refused at once, and the open ones are cut.',
      faults: [outage('payment-api')],
    },
    { name: 'recovery', durationS: 10, story: 'The link comes back.' },
  ],

  hypothesis: [
    {
      id: 'split-checkout-fails',
      says: 'Split checkout cannot charge, so it fails.',
      deployment: 'split',
      route: 'checkout',
      phase: 'outage',
      metric: 'successRate',
      atMost: 0.05,
    },
    {
      id: 'split-checkout-refused',
      says: 'The cause is "refused": nothing listens on the other side.',
      deployment: 'split',
      route: 'checkout',
      phase: 'outage',
      metric: 'causeShare:refused',
      atLeast: 0.9,
    },
    {
      id: 'split-checkout-fails-fast',
      says: 'Refused is an answer, not a silence: checkout fails in well under a second (compare partition: 5 s).',
      deployment: 'split',
      route: 'checkout',
      phase: 'outage',
      metric: 'failureLatencyP50Ms',
      atMost: 500,
    },
    {
      id: 'split-pay-unaffected',
      says: 'Pay reaches payment-service over its own edge link.',
      deployment: 'split',
      route: 'pay',
      phase: 'outage',
      metric: 'successRate',
      atLeast: 0.99,
    },
    {
      id: 'monolith-checkout-unaffected',
      says: 'The monolith has no payment-api link to lose.',
      deployment: 'monolith',
      route: 'checkout',
      phase: 'outage',
      metric: 'successRate',
      atLeast: 0.99,
    },
    {
      id: 'split-checkout-recovers',
      says: 'Once the link is back, checkout works within a few seconds.',
      deployment: 'split',
      route: 'checkout',
      phase: 'outage',
      metric: 'recoverySeconds',
      atMost: 3,
    },
  ],

  whatToLookAt: [
    'Split checkout failures: all "refused", each in a few milliseconds. Set this next to the partition report, where the same outage costs 5 s per request.',
    'The audit: every failed split checkout still created its user. Fast failures make orphans just as fast.',
    'Outbound calls in flight on signup-service stay near zero: nothing waits.',
  ],
});
