/**
 * The coordinated-omission scenario: one route measured at the same time by two load generators, the
 * lab's open-model probe (requests due on a fixed schedule, latency from the due time) and autocannon
 * (a closed model: each connection sends its next request when the last is answered, latency from the
 * send), while payment-service is frozen for 3 s. The two latency views of the same seconds sit side by
 * side in the report.
 */
import { defineScenario } from '../lab/scenario/define-scenario.ts';
import { stall } from '../lab/vocabulary/faults.ts';
import { split } from '../lab/vocabulary/variants.ts';

export default defineScenario({
  name: 'coordinated-omission',
  title: 'How much of a 3 s stall does a closed-model benchmark hide?',
  claim:
    'The services are fast enough, the benchmark says. But a closed-model load generator (autocannon, wrk, a ' +
    'worker pool) slows down with the system it measures: while payment-service is frozen its connections ' +
    'wait instead of sending, so its p99 barely moves while users arriving on their own wait out the stall.',

  // Only pay, measured twice: 20 requests/s on a schedule, and autocannon with 2 connections as fast as
  // payment-service answers. Signup and checkout stay idle so nothing else competes for the CPU.
  load: {
    signup: { ratePerSecond: 0 },
    pay: [{ ratePerSecond: 20 }, { model: 'closed', connections: 2 }],
    checkout: { ratePerSecond: 0 },
  },
  variants: [split()],

  timeline: [
    { name: 'baseline', durationS: 10, story: 'Healthy: both generators see the same fast pays.' },
    {
      name: 'stall',
      durationS: 3,
      story:
        'payment-service is frozen (SIGSTOP, or docker pause): it holds its connections and answers nothing ' +
        'until it is thawed at the end of the phase. Each of the 60 requests the probe has due meanwhile waits for ' +
        "the rest of the stall; autocannon's 2 connections each wait once, and send nothing else.",
      faults: [stall('payment-service')],
    },
    {
      name: 'after',
      durationS: 10,
      story: 'Thawed: the queue drains and both generators see fast pays again.',
    },
  ],

  hypothesis: [
    {
      id: 'open-p99-shows-the-stall',
      says:
        'The open-model probe shows the stall: the pays due in it wait out the rest of the 3 s, so the ' +
        "phase's p99 is at least 2 s.",
      deployment: 'split',
      route: 'pay',
      phase: 'stall',
      metric: 'latencyP99Ms',
      atLeast: 2000,
    },
    {
      id: 'closed-sends-almost-nothing-while-frozen',
      says:
        'autocannon sends next to nothing while payment-service is frozen: one request per connection, ' +
        'against thousands a second before. Requests in the stall phase are under 1 % of the baseline ' +
        "phase's.",
      deployment: 'split',
      route: 'pay',
      phase: 'stall',
      metric: 'closed:requests',
      relativeTo: { phase: 'baseline' },
      atMost: 0.01,
    },
    {
      id: 'closed-saw-the-stall',
      says:
        'autocannon did see the stall, once per connection: its slowest request of the run waited at least ' +
        '2 s. It is how often it looked that is wrong, not what it saw. (Over the whole run: the requests the ' +
        'freeze caught were often sent in the last milliseconds before it, so they count in the phase before.)',
      deployment: 'split',
      route: 'pay',
      phase: 'stall',
      metric: 'closed:latencyMaxMs:wholeRun',
      atLeast: 2000,
    },
    {
      id: 'closed-p99-understates-the-stall',
      says:
        "Over the whole run, the p99 a closed-model benchmark reports is under 5 % of the open probe's: a few " +
        'stalled requests among tens of thousands of fast ones, where the probe has one in eight of its ' +
        'requests caught in the stall.',
      deployment: 'split',
      route: 'pay',
      phase: 'stall',
      metric: 'closedOverOpen:latencyP99Ms:wholeRun',
      atMost: 0.05,
    },
  ],

  whatToLookAt: [
    'The pay charts of split: the open probe latency per second climbs to 3 s in the stall; right under it, the closed-model chart has a gap instead (no request sent), and the same fast line on both sides.',
    'The pay tables: the stall phase of the probe has its 60 requests; the closed model has about 2, against thousands in the baseline.',
    'The claim closed-p99-understates-the-stall: the ratio of the two whole-run p99s, the number a benchmark would have printed.',
  ],
});
