/**
 * The starvation scenario: a burst of signups, whose password hashing is deliberately CPU-heavy. In the
 * monolith, pay shares the process and its CPUs with signup; in split, payment-service has its own. The
 * modular monolith sits between: one process like the monolith, with the payment module on its own
 * worker thread in `modular/worker`.
 *
 * The flood is a closed model (autocannon): as many signups as the system will answer, the job
 * autocannon is built for. It keeps signup saturated without an unbounded queue, so what pay suffers
 * is the CPU taken, not a backlog that outlives the phase.
 */
import { flood } from '../lab/vocabulary/faults.ts';
import { defineScenario } from '../lab/scenario/define-scenario.ts';
import { modular, monolith, split } from '../lab/vocabulary/variants.ts';

/** Connections of the signup flood: 4 keep the 4 threads of libuv's pool hashing; 16 leave no gap. */
export const FLOOD_CONNECTIONS = 16;

export default defineScenario({
  name: 'starvation',
  title: 'Can a burst of signups slow down payments?',
  claim:
    'In one process, signup and payment compete for the same CPU and memory: if signup gets hammered it can ' +
    'starve payment. Split services each have their own.',

  // No checkouts: they would hash passwords too and blur which route starves which.
  load: { signup: { ratePerSecond: 2 }, pay: { ratePerSecond: 20 }, checkout: { ratePerSecond: 0 } },

  variants: [monolith(), modular(), modular({ paymentOn: 'worker' }), split()],

  timeline: [
    { name: 'baseline', durationS: 10, story: 'Healthy.' },
    {
      name: 'flood',
      durationS: 15,
      story:
        `autocannon with ${FLOOD_CONNECTIONS} connections sends signups as fast as they are answered: ` +
        'scrypt hashing on every CPU running signup, all phase long (measured: 20 to 34 signups a second ' +
        'on 2 cores, whichever deployment).',
      faults: [flood('signup', { connections: FLOOD_CONNECTIONS })],
    },
    {
      name: 'recovery',
      durationS: 10,
      story: 'The flood stops: its last signups finish, pay is alone again.',
    },
  ],

  hypothesis: [
    {
      id: 'monolith-pay-starves',
      says:
        "Monolith pay's slow tail grows where split's does not: during the flood its p90 is at least 1.1x " +
        "split's (measured 3.3x, 1.6x, 1.2x and 1.4x over four local runs), as its requests wait for the CPU the " +
        'hashing took. Modest: a closed flood keeps the CPU busy without the backlog an open one piles up ' +
        '(against its own baseline the p90 moved 0.6x to 3.8x).',
      deployment: 'monolith',
      route: 'pay',
      phase: 'flood',
      metric: 'latencyP90Ms',
      relativeTo: { deployment: 'split' },
      atLeast: 1.1,
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
        "During the flood, split's typical pay is faster than the monolith's: p50 at most 0.85x (measured " +
        '0.50x, 0.58x, 0.71x and 0.77x with the closed flood). (The median, not p99: a p99 of a few hundred ' +
        'requests is one or two outliers.)',
      deployment: 'split',
      route: 'pay',
      phase: 'flood',
      metric: 'latencyP50Ms',
      relativeTo: { deployment: 'monolith' },
      atMost: 0.85,
    },
    {
      id: 'modular-pay-starves',
      says:
        'The modular monolith is one process too: during the flood its pay median is at least 1.1x ' +
        "split's (measured 1.75x, 1.88x, 1.49x and 1.21x), like the monolith.",
      deployment: 'modular',
      route: 'pay',
      phase: 'flood',
      metric: 'latencyP50Ms',
      relativeTo: { deployment: 'split' },
      atLeast: 1.1,
    },
    {
      id: 'worker-buys-no-cpu',
      says:
        'A worker thread is not a CPU of its own: with the payment module on its own thread, pay during the ' +
        "flood is still at least 1.3x split's median (measured 1.68x, 1.98x, 1.65x, 1.69x): the hashing takes the " +
        'same cores.',
      deployment: 'modular/worker',
      route: 'pay',
      phase: 'flood',
      metric: 'latencyP50Ms',
      relativeTo: { deployment: 'split' },
      atLeast: 1.3,
    },
    {
      id: 'worker-no-faster-than-in-process',
      says:
        'What the worker thread buys is an event loop of its own, and this flood hardly blocks one (scrypt ' +
        "runs on libuv's threads): during the flood its pay median is at least 0.8x the in-process " +
        "module's, no faster (measured 0.96x, 1.05x, 1.11x and 1.40x).",
      deployment: 'modular/worker',
      route: 'pay',
      phase: 'flood',
      metric: 'latencyP50Ms',
      relativeTo: { deployment: 'modular' },
      atLeast: 0.8,
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
    'The modular columns: one process like the monolith, so pay slows down too; moving the payment module to a worker thread gives it its own event loop, not its own CPU.',
    'The "Closed-model load" table of each column: how many signups the flood got answered (its sent and answered totals), the CPU it cost the lab.',
    "On the local runtime the split services are pinned to separate CPUs (see the runtime details); without that, they would share the machine's cores and starve each other just the same. Separate processes isolate CPU only when they are given separate CPUs.",
  ],
});
