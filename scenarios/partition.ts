/**
 * The partition scenario: the network between signup-service and payment-service stops carrying data,
 * but no connection is closed. Nothing answers "no"; requests simply never come back. This is the
 * failure that `context deadline exceeded` is about.
 */
import { partition } from '../lab/vocabulary/faults.ts';
import { defineScenario } from '../lab/scenario/define-scenario.ts';
import { modular, monolith, split } from '../lab/vocabulary/variants.ts';

export default defineScenario({
  name: 'partition',
  title: 'What happens to checkout when the network between signup and payment silently stops delivering?',
  claim:
    'Once payment is a separate service, network calls fail and add latency; a timeout is the only thing ' +
    'that turns a hung call into an error ("context deadline exceeded"). In the monolith the call is in-process.',

  // The same steady, open-model load on both deployments: requests keep arriving on schedule, whatever
  // happens to earlier ones, as real users would keep clicking.
  load: {
    signup: { ratePerSecond: 4 },
    pay: { ratePerSecond: 20 },
    checkout: { ratePerSecond: 8 },
  },

  // Four columns: the monolith; the modular monolith (its modules talk through the same PaymentGateway
  // interface as split's, but in-process); split with its 5 s deadline; and split with no deadline at all
  // (policy "none"), the way a client without a timeout behaves.
  variants: [monolith(), modular(), split(), split({ policy: 'none' })],

  timeline: [
    {
      name: 'baseline',
      durationS: 10,
      story: 'Everything healthy. This is what normal looks like for each deployment.',
    },
    {
      name: 'partition',
      durationS: 15,
      story:
        'The payment-api link drops every byte in both directions and keeps connections open. ' +
        'Signup-service waits for an answer that never comes, until its 5 s deadline gives up.',
      // Only the split deployment has a payment-api link: the monolith and the modular monolith call
      // payment in-process, so for them this phase is a second baseline.
      faults: [partition('payment-api')],
    },
    {
      name: 'recovery',
      durationS: 15,
      story: 'The link heals. Hung connections are closed; new calls get through again.',
    },
  ],

  hypothesis: [
    {
      id: 'monolith-checkout-unaffected',
      says: 'Monolith checkout does not cross the network, so the partition cannot touch it.',
      deployment: 'monolith',
      route: 'checkout',
      phase: 'partition',
      metric: 'successRate',
      atLeast: 0.95,
    },
    {
      id: 'modular-checkout-unaffected',
      says:
        'The modular monolith has module boundaries but no network hop between them: like the monolith, the ' +
        'partition cannot touch its checkout (100 % succeeded in both of two runs).',
      deployment: 'modular',
      route: 'checkout',
      phase: 'partition',
      metric: 'successRate',
      atLeast: 0.95,
    },
    {
      id: 'modular-checkout-stays-fast',
      says:
        'Nor does it wait on anything: its checkout p99 stays near its baseline (131 ms and 155 ms ' +
        'measured in two runs on a busy machine), far from the 5 s deadline split waits out (tolerance 1 s).',
      deployment: 'modular',
      route: 'checkout',
      phase: 'partition',
      metric: 'latencyP99Ms',
      atMost: 1000,
    },
    {
      id: 'split-checkout-fails',
      says: 'Split checkout cannot reach payment-service: nearly every checkout sent during the partition fails.',
      deployment: 'split',
      route: 'checkout',
      phase: 'partition',
      metric: 'successRate',
      atMost: 0.1,
    },
    {
      id: 'split-checkout-fails-by-deadline',
      says: 'It fails by its deadline, not by a quick error: most failures have cause "deadline".',
      deployment: 'split',
      route: 'checkout',
      phase: 'partition',
      metric: 'causeShare:deadline',
      atLeast: 0.6,
    },
    {
      id: 'split-checkout-waits-the-deadline',
      says: 'A user waits about the 5 s deadline to learn that checkout failed (tolerance 4.5 s to 6.5 s).',
      deployment: 'split',
      route: 'checkout',
      phase: 'partition',
      metric: 'failureLatencyP50Ms',
      atLeast: 4500,
      atMost: 6500,
    },
    {
      id: 'split-checkout-waits-on-payment',
      says:
        "Where did those seconds go? Each failing checkout's trace shows its client span to payment-service " +
        'covering nearly all of the request (98 % measured; the rest is the password hash and the database).',
      deployment: 'split',
      route: 'checkout',
      phase: 'partition',
      metric: 'trace:failureOutboundShare',
      atLeast: 0.9,
    },
    {
      id: 'payment-never-saw-it',
      says: 'And payment-service never saw those calls: their traces hold no span of it at all.',
      deployment: 'split',
      route: 'checkout',
      phase: 'partition',
      metric: 'trace:failureCalleeSawShare',
      atMost: 0.05,
    },
    {
      id: 'monolith-pay-unaffected',
      says: 'Pay never crosses payment-api, in either deployment.',
      deployment: 'monolith',
      route: 'pay',
      phase: 'partition',
      metric: 'successRate',
      atLeast: 0.95,
    },
    {
      id: 'split-pay-unaffected',
      says: 'Split pay goes straight to payment-service over its own edge link, so the partition does not touch it.',
      deployment: 'split',
      route: 'pay',
      phase: 'partition',
      metric: 'successRate',
      atLeast: 0.95,
    },
    {
      id: 'deadline-bounds-the-pile-up',
      says:
        'With a deadline, hung calls are abandoned after 5 s: at 8 checkouts/s no more than about 40 are ' +
        'ever in flight (tolerance 50).',
      deployment: 'split',
      route: 'checkout',
      phase: 'partition',
      metric: 'service:signup-service:outboundInFlightMax',
      atMost: 50,
    },
    {
      id: 'no-deadline-piles-up',
      says:
        'Without a deadline nothing is ever abandoned: outbound calls in flight grow the whole partition long, ' +
        'to about 8/s x 15 s = 120 (at least 100). Each holds a socket and memory: the leak the text warns about.',
      deployment: 'split/none',
      route: 'checkout',
      phase: 'partition',
      metric: 'service:signup-service:outboundInFlightMax',
      atLeast: 100,
    },
    {
      id: 'split-checkout-recovers',
      says: 'Once the link heals, split checkout succeeds again within a few seconds.',
      deployment: 'split',
      route: 'checkout',
      phase: 'partition',
      metric: 'recoverySeconds',
      atMost: 3,
    },
  ],

  whatToLookAt: [
    'The split checkout latency chart: requests sent during the partition sit on a flat line at about 5 s. That is the deadline, not the network.',
    'Split checkout failures by cause: "deadline" for requests that waited out the 5 s; requests still hanging when the link healed were cut ("reset").',
    "The modular column looks like the monolith: its modules talk through the PaymentGateway interface, as split's do, but the interface is a function call, not a link that can be partitioned.",
    'Pay stays green in every deployment: a partition hurts only the calls that cross the partitioned link.',
    'The audit: split checkouts that failed still created a user (orphans) — the monolith cannot, its checkout is one transaction.',
    'Outbound calls in flight on signup-service: with the deadline they level off at about 40 (8/s x 5 s); split/none has no deadline and climbs the whole partition long.',
    'split/none checkouts fail only when the heal closes their connections ("reset") or the client gives up: a user waits up to 15 s.',
  ],
});
