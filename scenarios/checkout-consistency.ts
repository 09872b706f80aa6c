/**
 * The checkout consistency scenario: payment-service charges the card, but its answer arrives after
 * signup-service has stopped waiting. The client is told checkout failed; the ledger says it was paid.
 */
import { latency } from '../lab/faults.ts';
import { defineScenario } from '../lab/scenario/define-scenario.ts';
import { STEADY_LOAD } from './_steady-load.ts';

export default defineScenario({
  name: 'checkout-consistency',
  title: 'When payment answers too late, what does the client see and what do the databases hold?',
  claim:
    'In a monolith one transaction updates user and payment together. Split, each service owns its database: ' +
    'you must handle partial failures where the signup succeeds but the payment times out.',

  load: STEADY_LOAD,

  timeline: [
    { name: 'baseline', durationS: 10, story: 'Healthy.' },
    {
      name: 'late-answers',
      durationS: 15,
      story:
        'Answers from payment-service to signup-service are delayed 6 s; requests still arrive at once. Each ' +
        "charge commits in milliseconds, but signup-service's 5 s deadline fires before it hears so.",
      faults: [latency('payment-api', { ms: 6000, direction: 'downstream' })],
    },
    { name: 'recovery', durationS: 10, story: 'Answers are prompt again.' },
  ],

  hypothesis: [
    {
      id: 'split-client-sees-failure',
      says:
        'The client is told most split checkouts failed. (Those sent in the last 5 s of the phase are rescued: ' +
        'when the delay is removed, their answers arrive before the deadline.)',
      deployment: 'split',
      route: 'checkout',
      phase: 'late-answers',
      metric: 'successRate',
      atMost: 0.5,
    },
    {
      id: 'split-failures-are-deadlines',
      says: 'Every one of those failures is signup-service giving up at its deadline.',
      deployment: 'split',
      route: 'checkout',
      phase: 'late-answers',
      metric: 'causeShare:deadline',
      atLeast: 0.95,
    },
    {
      id: 'split-ledger-says-paid',
      says: '... while the ledger holds the charge: checkouts that failed for the client but committed.',
      deployment: 'split',
      route: 'checkout',
      phase: 'late-answers',
      metric: 'audit:failedButCommitted',
      atLeast: 20,
    },
    {
      id: 'monolith-consistent',
      says: 'The monolith cannot disagree with itself: no failure-but-committed, no orphan users.',
      deployment: 'monolith',
      route: 'checkout',
      phase: 'late-answers',
      metric: 'audit:failedButCommitted',
      atMost: 0,
    },
    {
      id: 'monolith-no-orphans',
      says: 'And no user without a payment.',
      deployment: 'monolith',
      route: 'checkout',
      phase: 'late-answers',
      metric: 'audit:orphanUsers',
      atMost: 0,
    },
    {
      id: 'nothing-acknowledged-is-lost',
      says: 'Whatever the client was told succeeded is in the databases, in split too.',
      deployment: 'split',
      route: 'checkout',
      phase: 'late-answers',
      metric: 'audit:acknowledgedWithoutRow',
      atMost: 0,
    },
  ],

  whatToLookAt: [
    'The audit table: split shows checkouts that "failed" and were paid. A client that retries with a new idempotency key would be charged twice; one that gives up has paid for nothing it knows of.',
    'Split checkout latency: about 5 s (the deadline), though payment finished in milliseconds.',
    'The monolith cannot show this: its checkout is one transaction, and there is no network between the charge and the answer.',
  ],
});
