/**
 * The starvation scenario: a burst of signups, whose password hashing is deliberately CPU-heavy. In the
 * monolith, pay shares the process and its CPUs with signup; in split, payment-service has its own.
 */
import { flood } from '../lab/vocabulary/faults.ts';
import { defineScenario } from '../lab/scenario/define-scenario.ts';

export default defineScenario({
  name: 'starvation',
  title: 'Can a burst of signups slow down payments?',
  claim:
    'In one process, signup and payment compete for the same CPU and memory: if signup gets hammered it can ' +
    'starve payment. Split services each have their own.',

  // No checkouts: they would hash passwords too and blur which route starves which.
  load: { signup: { ratePerSecond: 2 }, pay: { ratePerSecond: 20 }, checkout: { ratePerSecond: 0 } },

  timeline: [
    { name: 'baseline', durationS: 10, story: 'Healthy.' },
    {
      name: 'flood',
      durationS: 15,
      story:
        '120 more signups per second: more scrypt hashing than the CPUs running signup can do ' +
        '(about 70 per second on 2 cores). Signup itself saturates and queues.',
      faults: [flood('signup', { ratePerSecond: 120 })],
    },
    { name: 'recovery', durationS: 10, story: 'The flood stops; the queue drains.' },
  ],

  hypothesis: [
    {
      id: 'monolith-pay-starves',
      says:
        "Monolith pay's slow tail grows: its p90 is at least 2x its baseline, as its requests wait for the CPU the " +
        'hashing took. (The p90, not the p99: a baseline p99 of a few hundred requests is two or three outliers, ' +
        'and one slow start can hide the whole effect.)',
      deployment: 'monolith',
      route: 'pay',
      phase: 'flood',
      metric: 'latencyP90Ms',
      relativeTo: { phase: 'baseline' },
      atLeast: 2,
    },
    {
      id: 'split-pay-near-baseline',
      says:
        'The typical split pay is barely touched: its median stays within 8 ms of its baseline, because ' +
        'payment-service has CPUs of its own. Measured: under 1 ms on local, where it is pinned to its own ' +
        'core; up to 4.4 ms in containers, where CPU quotas still share the same two cores.',
      deployment: 'split',
      route: 'pay',
      phase: 'flood',
      metric: 'latencyP50Ms',
      relativeTo: { phase: 'baseline', by: 'difference' },
      atMost: 8,
    },
    {
      id: 'split-pay-beats-monolith',
      says:
        "During the flood, split's typical pay is clearly faster than the monolith's: p50 at most 0.75x. " +
        '(The median, not p99: a p99 of a few hundred requests is one or two outliers.)',
      deployment: 'split',
      route: 'pay',
      phase: 'flood',
      metric: 'latencyP50Ms',
      relativeTo: { deployment: 'monolith' },
      atMost: 0.75,
    },
    {
      id: 'pay-still-answers',
      says:
        'Starved is not down: monolith pay still mostly succeeds. A few pays may hit the 5 s database ' +
        'timeout (cause "database"): the hashing takes CPU from PostgreSQL and the event loop too. Measured: ' +
        '100 % on local, 95.5-97 % on containers, where Docker and Toxiproxy share the same two cores.',
      deployment: 'monolith',
      route: 'pay',
      phase: 'flood',
      metric: 'successRate',
      atLeast: 0.95,
    },
  ],

  whatToLookAt: [
    'Pay latency during the flood: it climbs in the monolith and stays flat in split.',
    'Event-loop delay of the monolith versus payment-service: the monolith process is busy with work that is not pay.',
    "On the local runtime the split services are pinned to separate CPUs (see the runtime details); without that, they would share the machine's cores and starve each other just the same. Separate processes isolate CPU only when they are given separate CPUs.",
  ],
});
