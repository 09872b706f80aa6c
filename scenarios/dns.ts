/**
 * The DNS scenario: the name `payment-service` stops resolving. signup-service caches answers for
 * their TTL (5 s) and reuses open connections (50 requests each), so the failure does not show at
 * once: it surfaces when a new connection needs a lookup and the cached answer has expired.
 */
import { dnsFailure } from '../lab/vocabulary/faults.ts';
import { defineScenario } from '../lab/scenario/define-scenario.ts';
import { STEADY_LOAD } from './_steady-load.ts';

export default defineScenario({
  name: 'dns',
  title: 'What happens to checkout when the name payment-service stops resolving?',
  claim:
    'A missing service is not caught by the compiler: at run time it is "lookup payment-service: no such ' +
    'host", an error that needs handling logic the monolith never had.',

  load: STEADY_LOAD,

  timeline: [
    { name: 'baseline', durationS: 10, story: 'Healthy. The answer for payment-service is cached for 5 s.' },
    {
      name: 'nxdomain',
      durationS: 20,
      story:
        "The lab's DNS server answers NXDOMAIN (no such host). Cached answers and open connections hide it for a while.",
      faults: [dnsFailure('payment-service', 'nxdomain')],
    },
    { name: 'resolves-again', durationS: 10, story: 'The name resolves again.' },
    {
      name: 'no-answer',
      durationS: 20,
      story: 'The DNS server stops answering at all. Each lookup now waits for the resolver to give up.',
      faults: [dnsFailure('payment-service', 'timeout')],
    },
    { name: 'recovery', durationS: 10, story: 'Answers are back.' },
  ],

  hypothesis: [
    {
      id: 'nxdomain-is-hidden-at-first',
      says: 'The failure does not show at once: the cached answer and open connections hide it for at least a second.',
      deployment: 'split',
      route: 'checkout',
      phase: 'nxdomain',
      metric: 'firstFailureSeconds',
      atLeast: 1,
    },
    {
      id: 'nxdomain-then-fails',
      says: 'Once it shows, split checkout fails with cause "dns" (most of the phase fails).',
      deployment: 'split',
      route: 'checkout',
      phase: 'nxdomain',
      metric: 'causeShare:dns',
      atLeast: 0.9,
    },
    {
      id: 'nxdomain-fails-most',
      says: 'Most of the checkouts sent during the NXDOMAIN phase fail.',
      deployment: 'split',
      route: 'checkout',
      phase: 'nxdomain',
      metric: 'successRate',
      atMost: 0.7,
    },
    {
      id: 'no-answer-costs-time',
      says:
        'With no answer at all, failures wait for the resolver to give up (0.5 s per lookup; a failed lookup is ' +
        'remembered for 150 ms, so some fail sooner): the median failure takes at least 150 ms, where NXDOMAIN ' +
        'failed in a few.',
      deployment: 'split',
      route: 'checkout',
      phase: 'no-answer',
      metric: 'failureLatencyP50Ms',
      atLeast: 150,
    },
    {
      id: 'monolith-needs-no-dns',
      says: 'The monolith resolves nothing: its checkout is untouched.',
      deployment: 'monolith',
      route: 'checkout',
      phase: 'nxdomain',
      metric: 'successRate',
      atLeast: 0.99,
    },
    {
      id: 'split-pay-unaffected',
      says: 'The load generator reaches payment-service by address, not by name.',
      deployment: 'split',
      route: 'pay',
      phase: 'nxdomain',
      metric: 'successRate',
      atLeast: 0.99,
    },
    {
      id: 'split-checkout-recovers',
      says: 'When answers return, checkout recovers within a few seconds.',
      deployment: 'split',
      route: 'checkout',
      phase: 'no-answer',
      metric: 'recoverySeconds',
      atMost: 3,
    },
  ],

  whatToLookAt: [
    'The first seconds of the NXDOMAIN phase: split checkout keeps succeeding on its cached answer and open connections, then fails with "dns". The phase table gives "first failure after".',
    'NXDOMAIN fails in milliseconds; "no answer" makes every lookup wait for the resolver timeout. Compare the failure latencies of the two phases.',
    'Orphans in the audit: the user is created before the payment call discovers it cannot even find payment-service.',
  ],
});
