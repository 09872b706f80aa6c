/**
 * The database outage scenario: the database that holds payments becomes unreachable. The monolith has
 * one database for everything; the modular monolith gives each module its own schema and pool, but in one
 * PostgreSQL server behind one network path; split has one database per service.
 */
import { dbOutage } from '../lab/vocabulary/faults.ts';
import { defineScenario } from '../lab/scenario/define-scenario.ts';
import { modular, monolith, split } from '../lab/vocabulary/variants.ts';
import { STEADY_LOAD } from './_steady-load.ts';

export default defineScenario({
  name: 'db-outage',
  title: 'What fails when the database that holds payments goes down?',
  claim:
    'In the monolith, if the database connection drops, both features fail instantly. Split services own ' +
    'separate databases, so one outage takes one domain down.',

  load: STEADY_LOAD,

  // The modular monolith twice: its payment module on the main thread, and on a worker thread of its own.
  variants: [monolith(), modular(), modular({ paymentOn: 'worker' }), split()],

  timeline: [
    { name: 'baseline', durationS: 10, story: 'Healthy.' },
    {
      name: 'db-down',
      durationS: 15,
      story:
        "The link to the payments database is cut: the monolith's only database, the modular monolith's one " +
        "server (both schemas), split's payment database.",
      faults: [dbOutage('payment')],
    },
    { name: 'recovery', durationS: 10, story: 'The database is reachable again; pools reconnect.' },
  ],

  hypothesis: [
    {
      id: 'monolith-signup-down-too',
      says: 'Signup needs no payment, yet in the monolith it shares the database and goes down with it.',
      deployment: 'monolith',
      route: 'signup',
      phase: 'db-down',
      metric: 'successRate',
      atMost: 0.05,
    },
    {
      id: 'monolith-pay-down',
      says: 'Monolith pay is down.',
      deployment: 'monolith',
      route: 'pay',
      phase: 'db-down',
      metric: 'successRate',
      atMost: 0.05,
    },
    {
      id: 'modular-signup-down-too',
      says:
        "The modular monolith's signup has its own schema and pool, yet the schemas share one server and one " +
        'network path: it goes down with payment, like the monolith (0 %, 1.7 % and 0 % succeeded in three runs).',
      deployment: 'modular',
      route: 'signup',
      phase: 'db-down',
      metric: 'successRate',
      atMost: 0.05,
    },
    {
      id: 'modular-pay-down',
      says: 'Modular pay is down, and says why: "database".',
      deployment: 'modular',
      route: 'pay',
      phase: 'db-down',
      metric: 'causeShare:database',
      atLeast: 0.9,
    },
    {
      id: 'worker-does-not-isolate-the-database',
      says:
        'Moving the payment module onto its own thread isolates its event loop, not its database: signup still ' +
        'goes down with it (0 % succeeded in two of three runs; 38 % in the other, on a machine saturated before the fault, ' +
        'where signups queued behind password hashes reached the database only once it was back).',
      deployment: 'modular/worker',
      route: 'signup',
      phase: 'db-down',
      metric: 'successRate',
      atMost: 0.05,
    },
    {
      id: 'worker-pay-says-database',
      says: 'The worker\'s answer crosses the thread boundary with its cause intact: "database".',
      deployment: 'modular/worker',
      route: 'pay',
      phase: 'db-down',
      metric: 'causeShare:database',
      atLeast: 0.9,
    },
    {
      id: 'split-signup-survives',
      says: 'Split signup has its own database and keeps working.',
      deployment: 'split',
      route: 'signup',
      phase: 'db-down',
      metric: 'successRate',
      atLeast: 0.99,
    },
    {
      id: 'split-pay-down',
      says: 'Split pay is down: it is the domain that lost its database.',
      deployment: 'split',
      route: 'pay',
      phase: 'db-down',
      metric: 'successRate',
      atMost: 0.05,
    },
    {
      id: 'split-pay-says-database',
      says: 'payment-service reports the cause: "database".',
      deployment: 'split',
      route: 'pay',
      phase: 'db-down',
      metric: 'causeShare:database',
      atLeast: 0.9,
    },
    {
      id: 'monolith-no-orphans',
      says: 'Monolith checkout is one transaction: it fails whole, never leaving a user without a payment.',
      deployment: 'monolith',
      route: 'checkout',
      phase: 'db-down',
      metric: 'audit:orphanUsers',
      atMost: 0,
    },
    {
      id: 'modular-no-orphans',
      says: 'Modular checkout is one transaction across both schemas: no user without a payment either.',
      deployment: 'modular',
      route: 'checkout',
      phase: 'db-down',
      metric: 'audit:orphanUsers',
      atMost: 0,
    },
    {
      id: 'worker-no-orphans',
      says:
        'With the worker, checkout holds the user in an open transaction until the charge commits: a charge ' +
        'that fails rolls the user back, so no orphans here either.',
      deployment: 'modular/worker',
      route: 'checkout',
      phase: 'db-down',
      metric: 'audit:orphanUsers',
      atMost: 0,
    },
    {
      id: 'modular-pay-recovers',
      says: 'Both modules reconnect as soon as the server is reachable again (0 s measured in three runs; tolerance 3 s).',
      deployment: 'modular',
      route: 'pay',
      phase: 'db-down',
      metric: 'recoverySeconds',
      atMost: 3,
    },
    {
      id: 'split-pay-recovers',
      says: 'Once the database is back, pay recovers within a few seconds.',
      deployment: 'split',
      route: 'pay',
      phase: 'db-down',
      metric: 'recoverySeconds',
      atMost: 3,
    },
  ],

  whatToLookAt: [
    'Signup during the outage: red in the monolith and in both modular columns, green in split. Same code, same fault; only the deployment differs. A schema and a pool per module are boundaries in the code, not in the failure domain: one server, one link.',
    'Split checkout fails ("upstream_status": payment-service answered 503), and each failure leaves a user without a payment: see the audit. The monolith cannot leave one.',
    'Failures are fast ("database" in milliseconds): a refused database link is an answer. A database that hangs would cost the 5 s query timeout instead.',
  ],
});
