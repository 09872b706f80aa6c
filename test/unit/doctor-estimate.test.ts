import { describe, expect, it } from 'vitest';
import {
  chooseOverhead,
  CONTAINERS_EXTRA_START,
  describeEstimate,
  estimateAll,
  formatMinutes,
  judgeEstimate,
  measureOverhead,
  REFERENCE_LOCAL_OVERHEAD_S,
  type RecordedRun,
} from '../../lab/doctor/estimate.ts';

const local = (wallTimeMs: number, timelineS: number, deployments: number): RecordedRun => ({
  runtime: 'local',
  wallTimeMs,
  timelineS,
  deployments,
});

/**
 * The 12 local runs of the reference machine behind REFERENCE_LOCAL_OVERHEAD_S (wall time, timeline,
 * variants), as their results.json recorded them.
 */
const REFERENCE_RUNS = [
  local(128_055, 40, 3),
  local(65_413, 30, 2),
  local(203_666, 65, 3),
  local(210_953, 50, 4),
  local(85_353, 40, 2),
  local(76_231, 35, 2),
  local(146_065, 70, 2),
  local(86_880, 40, 2),
  local(76_178, 35, 2),
  local(127_718, 40, 3),
  local(171_426, 40, 4),
  local(92_816, 35, 2),
];

/** The scenarios of `all` as the registry defined them when the reference runs were made. */
const SCENARIOS = [
  { name: 'baseline', durationS: 30, variants: 2 },
  { name: 'breaker', durationS: 65, variants: 3 },
  { name: 'checkout-consistency', durationS: 50, variants: 4 },
  { name: 'crash', durationS: 40, variants: 2 },
  { name: 'db-outage', durationS: 35, variants: 2 },
  { name: 'dns', durationS: 70, variants: 2 },
  { name: 'latency', durationS: 40, variants: 2 },
  { name: 'outage', durationS: 35, variants: 2 },
  { name: 'partition', durationS: 40, variants: 3 },
  { name: 'retry-storm', durationS: 40, variants: 4 },
  { name: 'starvation', durationS: 35, variants: 2 },
];

describe('measureOverhead', () => {
  it('divides the wall time beyond timeline x variants by the variants, over all runs of the runtime', () => {
    const runs = [
      local(65_400, 30, 2),
      local(128_000, 40, 3),
      { ...local(999_000, 10, 1), runtime: 'containers' },
    ];
    // (65.4 - 60) + (128 - 120) = 13.4 s over 5 variants.
    expect(measureOverhead(runs, 'local')?.perDeploymentS).toBeCloseTo(2.68, 6);
    expect(measureOverhead(runs, 'local')).toMatchObject({ runs: 2, deployments: 5 });
    expect(measureOverhead(runs, 'containers')?.perDeploymentS).toBeCloseTo(989, 6);
    expect(measureOverhead(runs, 'other')).toBeUndefined();
  });

  it('reproduces the reference figure from the runs it was measured on', () => {
    const measured = measureOverhead(REFERENCE_RUNS, 'local');
    expect(measured?.perDeploymentS.toFixed(1)).toBe(REFERENCE_LOCAL_OVERHEAD_S.toFixed(1));
    expect(measured?.deployments).toBe(31);
  });
});

describe('estimateAll', () => {
  it('adds timeline x variants of every scenario and the overhead per variant and per scenario', () => {
    const estimate = estimateAll(
      [
        { name: 'a', durationS: 30, variants: 2 },
        { name: 'b', durationS: 40, variants: 3 },
      ],
      { perDeploymentS: 3, perScenarioS: 2, source: 'test' },
    );
    expect(estimate).toMatchObject({
      timelineS: 180,
      deployments: 5,
      scenarios: 2,
      overheadS: 19,
      totalS: 199,
    });
  });

  it("comes within a minute of the reference machine's real `all` run (17:28:25 to 17:50:52, 1,347 s)", () => {
    const estimate = estimateAll(SCENARIOS, chooseOverhead(REFERENCE_RUNS, 'local'));
    expect(estimate.timelineS).toBe(1245);
    expect(Math.abs(estimate.totalS - 1347)).toBeLessThan(60);
    expect(formatMinutes(estimate.totalS)).toBe('22 min');
  });
});

describe('chooseOverhead', () => {
  it('measures local from the local runs and says so', () => {
    expect(chooseOverhead([local(65_400, 30, 2)], 'local', 'reports/')).toEqual({
      perDeploymentS: expect.closeTo(2.7, 6) as number,
      perScenarioS: 0,
      source: 'measured from 1 local run in reports/',
    });
  });

  it('falls back to the reference figure without a local run', () => {
    expect(chooseOverhead([], 'local')).toMatchObject({
      perDeploymentS: REFERENCE_LOCAL_OVERHEAD_S,
      source: "no local run in reports/ yet: the figure of the lab's 2-core reference machine",
    });
  });

  it('derives containers from local plus its slower start when no containers run was recorded', () => {
    const overhead = chooseOverhead([local(65_400, 30, 2)], 'containers');
    expect(overhead.perDeploymentS).toBeCloseTo(2.7 + CONTAINERS_EXTRA_START.perDeploymentS, 6);
    expect(overhead.perScenarioS).toBe(CONTAINERS_EXTRA_START.perScenarioS);
    expect(overhead.source).toBe(
      "no containers run in reports/ yet: local's 2.7 s + the slower start measured in docs/benchmark.md",
    );
  });

  it('measures containers from containers runs when there are some', () => {
    const runs = [local(65_400, 30, 2), { ...local(70_000, 30, 2), runtime: 'containers' }];
    expect(chooseOverhead(runs, 'containers')).toMatchObject({ perDeploymentS: 5, perScenarioS: 0 });
  });
});

describe('the estimate line', () => {
  it('shows the arithmetic and where the overhead came from', () => {
    const estimate = estimateAll(SCENARIOS, chooseOverhead(REFERENCE_RUNS, 'containers'));
    expect(describeEstimate(estimate)).toBe(
      'about 23 min: 1,245 s of timelines (11 scenarios, 28 variants) + 28 x 4.2 s start/settle per variant + ' +
        "11 x 2.3 s per scenario; no containers run in reports/ yet: local's 3.4 s + the slower start measured in " +
        'docs/benchmark.md',
    );
  });

  it('formats durations as people plan with them', () => {
    expect([formatMinutes(59.4), formatMinutes(150), formatMinutes(1346), formatMinutes(5400)]).toEqual([
      '59 s',
      '3 min',
      '22 min',
      '1 h 30 min',
    ]);
  });

  it('is information normally, and a caveat naming the fix when scenarios do not load', () => {
    expect(judgeEstimate({ sizes: SCENARIOS, problems: [] }, REFERENCE_RUNS, 'local').status).toBe('info');
    const partly = judgeEstimate(
      {
        sizes: SCENARIOS.slice(1),
        problems: ['baseline: scenario baseline: timeline[0].durationS too small'],
      },
      [],
      'local',
    );
    expect(partly).toMatchObject({
      status: 'caveat',
      fix: 'npm run scenario -- <name> says what is wrong with the scenario file',
    });
    expect(partly.detail).toContain('left out 1 scenario that does not load (first: baseline:');
    const none = judgeEstimate(
      { sizes: [], problems: ["baseline: Cannot find package 'zod' imported from x.ts"] },
      [],
      'containers',
    );
    expect(none).toMatchObject({ status: 'caveat', fix: 'npm ci' });
    expect(none.detail).toMatch(/^no estimate: 1 scenario that does not load/);
  });
});
