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
        'scrypt hashing on every CPU running signup, all phase long (measured: 14 to 38 signups a second ' +
        'on 2 cores, whichever deployment and runtime).',
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
        "Monolith pay's slow tail grows during the flood: its p90 is at least 1.3x its own baseline's, as its " +
        'requests wait for the CPU the hashing took (measured 1.54x to 4.65x over two local runs, 4.0x to 6.6x ' +
        "over four in containers). Against split's p90 the effect is not reliable: 0.94x to 4.9x, because " +
        'split pay slows too where the services share cores (containers: its p90 grew 2x to 3.2x).',
      deployment: 'monolith',
      route: 'pay',
      phase: 'flood',
      metric: 'latencyP90Ms',
      relativeTo: { phase: 'baseline' },
      atLeast: 1.3,
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
        "During the flood, split's typical pay is faster than the monolith's: p50 at most 0.9x (measured " +
        '0.36x to 0.85x on local, 0.42x to 0.58x in containers). (The median, not p99: a p99 of a few ' +
        'hundred requests is one or two outliers.)',
      deployment: 'split',
      route: 'pay',
      phase: 'flood',
      metric: 'latencyP50Ms',
      relativeTo: { deployment: 'monolith' },
      atMost: 0.9,
    },
    {
      id: 'modular-pay-starves',
      says:
        'The modular monolith is one process too: during the flood its pay median is at least 1.1x ' +
        "split's (measured 1.2x to 3.1x on local, 1.4x to 2.1x in containers), like the monolith.",
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
        "flood is still at least 1.3x split's median (measured 1.6x to 4.3x on local, 1.6x to 2.3x in " +
        'containers): the hashing takes the same cores.',
      deployment: 'modular/worker',
      route: 'pay',
      phase: 'flood',
      metric: 'latencyP50Ms',
      relativeTo: { deployment: 'split' },
      atLeast: 1.3,
    },
    {
      id: 'pay-still-answers',
      says:
        'Starved is not down: monolith pay still mostly succeeds. A few pays may hit the 5 s database ' +
        'timeout (cause "database"): the hashing takes CPU from PostgreSQL and the event loop too. Measured: ' +
        '100 % on local, 99.3 % to 100 % in containers, where Docker and Toxiproxy share the same two cores ' +
        '(92.7 % in one run where other programs took 64 % of the CPU, which its report said).',
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
    "The worker thread against the in-process module: no consistent winner. Their pay medians during the flood ranged from 0.72x to 3.2x of each other over thirteen runs: the scrypt hashing runs on libuv's threads, not on the event loop a worker would escape, so what decides is how the scheduler shares the two cores that run.",
    'The "Closed-model load" table of each column: how many signups the flood got answered (its sent and answered totals), the CPU it cost the lab.',
    "On the local runtime the split services are pinned to separate CPUs (see the runtime details); without that, they would share the machine's cores and starve each other just the same. Separate processes isolate CPU only when they are given separate CPUs.",
  ],
});
