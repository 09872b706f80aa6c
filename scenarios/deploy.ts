/**
 * The deploy scenario: shipping code is a fault you cause yourself, every day. A deploy stops the running
 * process (SIGTERM: it stops taking connections, finishes what it holds, exits) and starts the new one on
 * the same address. In the monolith that process is the whole application; in split it is one service.
 * Then a change to the contract between signup and payment (`/charge` v2 requires a currency), shipped
 * in the wrong order and then the expand/contract way.
 *
 * One timeline, two columns: the monolith and split. The expand/contract rollout is not a third column:
 * a column differs from another only in how it is deployed, and the two rollouts differ in *what is
 * deployed when*. So the split column runs both rollouts one after the other, with a rollback between
 * them, and the chart shows the breaking order failing and the compatible order not failing on the same
 * services, minutes apart. The monolith gets the same versions at the same moments; both modules of a
 * version ship in its one process, so it cannot be skewed.
 */
import { deploy } from '../lab/vocabulary/faults.ts';
import { defineScenario } from '../lab/scenario/define-scenario.ts';
import { monolith, split } from '../lab/vocabulary/variants.ts';

export default defineScenario({
  name: 'deploy',
  title:
    'What does a deploy cost each route, and what happens when two services ship a change in the wrong order?',
  claim:
    'A redeploy of the monolith restarts every route; in split it restarts one service and only its routes ' +
    'notice. But split can run two versions side by side: a breaking contract change deployed callee-first ' +
    'fails every call until the caller follows, unless the callee first accepts both (expand/contract).',

  // Open-model load, as in most scenarios: requests keep arriving while a process restarts.
  load: {
    signup: { ratePerSecond: 4 },
    pay: { ratePerSecond: 10 },
    checkout: { ratePerSecond: 8 },
  },

  variants: [monolith(), split()],

  // Each deploy touches only the column that runs its service: deploy('monolith') does nothing to split,
  // deploy('payment-service') nothing to the monolith. A deploy is not undone at the end of its phase: the
  // new version runs on, as after a real deploy.
  timeline: [
    { name: 'steady', durationS: 6, story: 'Everything runs v1.' },
    {
      name: 'redeploy',
      durationS: 10,
      story:
        'The same code is deployed again: the monolith in one column, payment-service alone in the other. ' +
        'SIGTERM, the old process drains, the new one starts on the same port.',
      faults: [deploy('monolith'), deploy('payment-service')],
    },
    {
      name: 'payment-v2-first',
      durationS: 5,
      story:
        'payment-service v2 goes out before its caller: its /charge now requires a currency, and ' +
        'signup-service v1 does not send one. The monolith ships v2 of both modules at once.',
      faults: [deploy('payment-service', { version: 'v2' }), deploy('monolith', { version: 'v2' })],
    },
    {
      name: 'skew',
      durationS: 8,
      story:
        'Between the two deploys: payment-service v2 runs, signup-service v1 still calls it with the old body. ' +
        'No restart in this phase: what fails here fails for the contract.',
    },
    {
      name: 'signup-v2',
      durationS: 8,
      story: 'signup-service v2 follows and sends the currency: the two versions agree again.',
      faults: [deploy('signup-service', { version: 'v2' })],
    },
    {
      name: 'rollback',
      durationS: 8,
      story:
        'Back to v1 to try again, callee first: payment-service v1 ignores a currency it is sent, so ' +
        'signup-service v2 keeps working against it until signup-service v1 follows.',
      faults: [
        deploy('payment-service', { version: 'v1' }),
        deploy('signup-service', { version: 'v1' }),
        deploy('monolith', { version: 'v1' }),
      ],
    },
    {
      name: 'expand',
      durationS: 8,
      story: 'Expand: payment-service v2-expand accepts both bodies (no currency means the old default).',
      faults: [
        deploy('payment-service', { version: 'v2-expand' }),
        deploy('monolith', { version: 'v2-expand' }),
      ],
    },
    {
      name: 'callers-move',
      durationS: 8,
      story: 'signup-service v2 sends the currency; payment still accepts both.',
      faults: [deploy('signup-service', { version: 'v2' })],
    },
    {
      name: 'contract',
      durationS: 8,
      story:
        'Contract: no caller sends the old body any more, so payment-service v2 may require the currency.',
      faults: [deploy('payment-service', { version: 'v2' }), deploy('monolith', { version: 'v2' })],
    },
    { name: 'settled', durationS: 6, story: 'Everything runs v2.' },
  ],

  // Tolerances from 3 local runs and 2 containers runs (the `skew` phase: 1 of each), on a machine other
  // work kept busy (figures in each `says`). Through Toxiproxy a restart shows as "reset": the proxy
  // accepts the connection, then finds nothing listening behind it.
  hypothesis: [
    {
      id: 'monolith-redeploy-signup-down',
      says:
        'A monolith redeploy takes every route down while the process restarts: signup failed for 1 s on ' +
        'local, 2 s on containers (drained in 0.0-0.3 s, healthy again after 0.5-1.7 s; tolerance 1-4 s).',
      deployment: 'monolith',
      route: 'signup',
      phase: 'redeploy',
      metric: 'downtimeSeconds',
      atLeast: 1,
      atMost: 4,
    },
    {
      id: 'monolith-redeploy-pay-down',
      says: 'Pay too, the same seconds: 1-2 s (tolerance 1-4 s).',
      deployment: 'monolith',
      route: 'pay',
      phase: 'redeploy',
      metric: 'downtimeSeconds',
      atLeast: 1,
      atMost: 4,
    },
    {
      id: 'monolith-redeploy-checkout-down',
      says: 'And checkout: 1-2 s (tolerance 1-4 s). One process: one restart for every route.',
      deployment: 'monolith',
      route: 'checkout',
      phase: 'redeploy',
      metric: 'downtimeSeconds',
      atLeast: 1,
      atMost: 4,
    },
    {
      id: 'split-redeploy-signup-unaffected',
      says:
        'Redeploying payment-service alone does not touch signup: split signup stayed at 100 % (tolerance: ' +
        'one stray failure in 40).',
      deployment: 'split',
      route: 'signup',
      phase: 'redeploy',
      metric: 'successRate',
      atLeast: 0.97,
    },
    {
      id: 'split-redeploy-pay-down',
      says:
        'Split pay goes straight to payment-service: it sees the restart, 1-2 s of failures (healthy again ' +
        'after 1.3-1.7 s; tolerance 1-5 s).',
      deployment: 'split',
      route: 'pay',
      phase: 'redeploy',
      metric: 'downtimeSeconds',
      atLeast: 1,
      atMost: 5,
    },
    {
      id: 'split-skew-checkout-fails',
      says:
        'payment-service v2 before signup-service v2: every split checkout failed (0 %; tolerance ≤ 10 %) ' +
        'until the caller followed.',
      deployment: 'split',
      route: 'checkout',
      phase: 'skew',
      metric: 'successRate',
      atMost: 0.1,
    },
    {
      id: 'split-skew-cause',
      says:
        'They fail because payment-service refuses the v1 body (400) and signup-service passes the refusal ' +
        'on: cause upstream_status, 100 % of the failures between the two deploys in both runs that had ' +
        'this phase (tolerance ≥ 90 %).',
      deployment: 'split',
      route: 'checkout',
      phase: 'skew',
      metric: 'causeShare:upstream_status',
      atLeast: 0.9,
    },
    {
      id: 'split-skew-healed-by-the-caller',
      says:
        'Once signup-service v2 follows, the contract failures stop. What still fails in that phase is the ' +
        'signup-service restart itself (reset), plus the last v1 checkouts finishing in the draining old ' +
        'process: upstream_status was 2-13 % of the failures over 5 runs (tolerance ≤ 25 %).',
      deployment: 'split',
      route: 'checkout',
      phase: 'signup-v2',
      metric: 'causeShare:upstream_status',
      atMost: 0.25,
    },
    {
      id: 'monolith-cannot-skew',
      says:
        'The monolith ships both modules at once: v2 of payment always runs with v2 of signup, and its ' +
        'checkout in the same seconds succeeded, 100 % in both runs (tolerance ≥ 95 %).',
      deployment: 'monolith',
      route: 'checkout',
      phase: 'skew',
      metric: 'successRate',
      atLeast: 0.95,
    },
    {
      id: 'expand-keeps-checkout-working',
      says:
        'Expand: payment-service v2-expand takes both bodies, so checkout fails only for the restart: ' +
        '83-92 % succeed (tolerance ≥ 60 %), against 0 % for v2 deployed the breaking way.',
      deployment: 'split',
      route: 'checkout',
      phase: 'expand',
      metric: 'successRate',
      atLeast: 0.6,
    },
    {
      id: 'callers-move-keeps-checkout-working',
      says: 'Callers move to v2 and send the currency: 81-89 % succeed, the rest is the restart (tolerance ≥ 60 %).',
      deployment: 'split',
      route: 'checkout',
      phase: 'callers-move',
      metric: 'successRate',
      atLeast: 0.6,
    },
    {
      id: 'contract-keeps-checkout-working',
      says: 'Contract: payment-service v2 now requires what every caller sends: 84-94 % succeed (tolerance ≥ 60 %).',
      deployment: 'split',
      route: 'checkout',
      phase: 'contract',
      metric: 'successRate',
      atLeast: 0.6,
    },
  ],

  whatToLookAt: [
    'The redeploy phase, per route: in the monolith every route has the same gap (one process restarted); in split only pay and checkout notice the payment-service restart, and signup does not.',
    'The fault evidence of each deploy: how long the old process took to drain after SIGTERM and how long the new one took to answer /healthz.',
    'A long drain is downtime too: the old process stops taking connections at SIGTERM, and nothing else listens on its address until the new one starts (no load balancer moves traffic elsewhere). Compare the signup-service deploy, which drains queued password hashes, with the payment-service ones.',
    'Split checkout in skew: failures by cause are "upstream_status": payment-service answers 400 to the body signup-service v1 sends, until signup-service v2 follows.',
    'The monolith cannot be skewed: its v2 deploy restarts it (every route fails for the restart), but its checkout never fails with "upstream_status": both modules ship together.',
    "Split pay from payment-service v2 on (and again after the contract): the load generator calls payment-service's /charge directly with the v1 body, no currency, so it is one more caller that did not move: http_400. A public API has callers you do not deploy.",
    'The same change later, expand/contract: payment v2-expand, then signup v2, then payment v2. Each deploy still restarts a service, but no checkout fails for the contract.',
  ],
});
