/**
 * The checkout consistency scenario: what the client is told versus what the databases hold, when the
 * one transaction of the monolith becomes two services with two databases. Two troubles in a row:
 * payment answers too late (the charge happened, the caller gave up), then payment cannot be reached
 * at all (the charge did not happen). Six columns: the monolith, the modular monolith (payment module
 * in-process, then on its own worker thread), and split with each strategy.
 */
import { latency, outage } from '../lab/vocabulary/faults.ts';
import { defineScenario } from '../lab/scenario/define-scenario.ts';
import { modular, monolith, split } from '../lab/vocabulary/variants.ts';
import { STEADY_LOAD } from './_steady-load.ts';

export default defineScenario({
  name: 'checkout-consistency',
  title:
    'When payment answers too late or not at all, what does the client see and what do the databases hold?',
  claim:
    'In a monolith one transaction updates user and payment together. Split, each service owns its database: ' +
    'you must handle partial failures where the signup succeeds but the payment times out, with sagas or an outbox.',

  load: STEADY_LOAD,

  // split: create the user, then charge (no strategy). split/saga: compensate (delete the user) when the
  // charge definitely failed, ask payment-service later when its outcome is unknown. split/outbox: user
  // and charge request in one transaction, answer 202 at once, a relay delivers the charge with retries.
  // modular: one transaction across both modules' schemas, as the monolith. modular/worker: the charge
  // runs in the worker's own transaction while the user's stays open; the user commits only after the
  // charge did, so a failed charge leaves no user (a payment without a user remains possible if the
  // user's commit fails after the charge committed: two transactions, no two-phase commit).
  variants: [
    monolith(),
    modular(),
    modular({ paymentOn: 'worker' }),
    split(),
    split({ consistency: 'saga' }),
    split({ consistency: 'outbox' }),
  ],

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
    { name: 'between', durationS: 5, story: 'Answers are prompt again for a moment.' },
    {
      name: 'payment-down',
      durationS: 10,
      story: 'The payment-api link refuses connections: these charges certainly do not happen.',
      faults: [outage('payment-api')],
    },
    { name: 'recovery', durationS: 10, story: 'Everything is reachable again.' },
  ],

  hypothesis: [
    {
      id: 'split-told-failure-but-paid',
      says:
        'Late answers: split tells clients checkout failed while the ledger holds their charge ' +
        '(checkouts due in the last 5 s of the phase are rescued when the delay is removed).',
      deployment: 'split',
      route: 'checkout',
      phase: 'late-answers',
      metric: 'audit:failedButCommitted',
      atLeast: 20,
    },
    {
      id: 'split-leaves-orphans',
      says: 'Payment down: every split checkout leaves a user without a payment.',
      deployment: 'split',
      route: 'checkout',
      phase: 'payment-down',
      metric: 'audit:orphanUsers',
      atLeast: 20,
    },
    {
      id: 'saga-compensates',
      says: 'The saga deletes users whose charge certainly failed and keeps those whose charge it finds: no orphans.',
      deployment: 'split/saga',
      route: 'checkout',
      phase: 'payment-down',
      metric: 'audit:orphanUsers',
      atMost: 0,
    },
    {
      id: 'saga-cannot-unsay',
      says: 'The saga makes the databases agree, but clients already told "failed" were charged all the same.',
      deployment: 'split/saga',
      route: 'checkout',
      phase: 'late-answers',
      metric: 'audit:failedButCommitted',
      atLeast: 20,
    },
    {
      id: 'outbox-accepts',
      says: 'The outbox answers "accepted" without calling payment-service: clients see success throughout.',
      deployment: 'split/outbox',
      route: 'checkout',
      phase: 'payment-down',
      metric: 'successRate',
      atLeast: 0.99,
    },
    {
      id: 'outbox-converges',
      says: 'After the relay drains, every accepted checkout has exactly its payment: no orphans ...',
      deployment: 'split/outbox',
      route: 'checkout',
      phase: 'payment-down',
      metric: 'audit:orphanUsers',
      atMost: 0,
    },
    {
      id: 'outbox-no-double-charges',
      says: '... no double charges, though the relay retried charges whose answers came late ...',
      deployment: 'split/outbox',
      route: 'checkout',
      phase: 'late-answers',
      metric: 'audit:doubleCharges',
      atMost: 0,
    },
    {
      id: 'outbox-keeps-its-word',
      says: '... and nothing it acknowledged is missing.',
      deployment: 'split/outbox',
      route: 'checkout',
      phase: 'late-answers',
      metric: 'audit:acknowledgedWithoutRow',
      atMost: 0,
    },
    {
      id: 'monolith-consistent',
      says: 'The monolith cannot disagree with itself: nothing failed but committed ...',
      deployment: 'monolith',
      route: 'checkout',
      phase: 'late-answers',
      metric: 'audit:failedButCommitted',
      atMost: 0,
    },
    {
      id: 'monolith-no-orphans',
      says: '... and no user without a payment.',
      deployment: 'monolith',
      route: 'checkout',
      phase: 'payment-down',
      metric: 'audit:orphanUsers',
      atMost: 0,
    },
    {
      id: 'modular-consistent',
      says:
        'The modular monolith keeps the one transaction: its modules meet through the PaymentGateway interface ' +
        'in-process, so there is no answer to lose and nothing failed but committed ...',
      deployment: 'modular',
      route: 'checkout',
      phase: 'late-answers',
      metric: 'audit:failedButCommitted',
      atMost: 0,
    },
    {
      id: 'modular-no-orphans',
      says: '... and no user without a payment.',
      deployment: 'modular',
      route: 'checkout',
      phase: 'payment-down',
      metric: 'audit:orphanUsers',
      atMost: 0,
    },
    {
      id: 'modular-checkout-untouched',
      says:
        'The faults act on the payment-api link, which the modular monolith does not have: its checkout keeps ' +
        'succeeding (100 % measured in both of two runs).',
      deployment: 'modular',
      route: 'checkout',
      phase: 'payment-down',
      metric: 'successRate',
      atLeast: 0.95,
    },
    {
      id: 'worker-consistent',
      says:
        'With the payment module on a worker thread, checkout is two transactions (the user waits uncommitted ' +
        'for the charge), yet a message between threads is not a network call: nothing is lost in it, so ' +
        'nothing failed but committed ...',
      deployment: 'modular/worker',
      route: 'checkout',
      phase: 'late-answers',
      metric: 'audit:failedButCommitted',
      atMost: 0,
    },
    {
      id: 'worker-no-orphans',
      says: '... and no orphans.',
      deployment: 'modular/worker',
      route: 'checkout',
      phase: 'payment-down',
      metric: 'audit:orphanUsers',
      atMost: 0,
    },
  ],

  whatToLookAt: [
    'The four audit tables side by side. split: orphans from the outage, and clients told "failed" who were charged. split/saga: no orphans, but the late answers still reached no client. split/outbox: every row accounted for once the relay drained (see how long the audit waited).',
    'Split checkout latency in the late-answers phase: about 5 s (the deadline), though payment finished in milliseconds. split/outbox answers in milliseconds: it promises, the relay keeps the promise later.',
    'The monolith cannot show any of this: its checkout is one transaction, with no network between the charge and the answer.',
    "The modular columns look like the monolith: module boundaries without a network between them. modular/worker runs checkout as two transactions, the user committed only after the charge; its one remaining gap (the user's commit failing after the charge committed) needs a database failure in a window of milliseconds, which these link faults never reach.",
    'The audit is scoped to the whole run; each claim names the phase that causes the anomaly it counts.',
  ],
});
