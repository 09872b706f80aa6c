/**
 * The database outage scenario: the database that holds payments becomes unreachable. The monolith has
 * one database for everything; split has one per service.
 */
import { dbOutage } from '../lab/vocabulary/faults.ts';
import { defineScenario } from '../lab/scenario/define-scenario.ts';
import { STEADY_LOAD } from './_steady-load.ts';

export default defineScenario({
  name: 'db-outage',
  title: 'What fails when the database that holds payments goes down?',
  claim:
    'In the monolith, if the database connection drops, both features fail instantly. Split services own ' +
    'separate databases, so one outage takes one domain down.',

  load: STEADY_LOAD,

  timeline: [
    { name: 'baseline', durationS: 10, story: 'Healthy.' },
    {
      name: 'db-down',
      durationS: 15,
      story:
        "The link to the payments database is cut: the monolith's only database, split's payment database.",
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
    'Signup during the outage: red in the monolith, green in split. Same code, same fault; only the deployment differs.',
    'Split checkout fails ("upstream_status": payment-service answered 503), and each failure leaves a user without a payment: see the audit. The monolith cannot leave one.',
    'Failures are fast ("database" in milliseconds): a refused database link is an answer. A database that hangs would cost the 5 s query timeout instead.',
  ],
});
