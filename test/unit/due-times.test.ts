import { describe, expect, it } from 'vitest';
import { perPhase, perSecond } from '../../lab/load/aggregate.ts';
import { dueCountInWindow, dueTimeS, streamSchedule } from '../../lab/load/due-times.ts';
import type { RequestOutcome } from '../../lab/load/outcome.ts';
import type { PhaseWindow } from '../../lab/results.ts';

const RATES = [1, 3, 7, 8, 20, 120];
const PHASE_LENGTHS = [
  [10, 20, 10],
  [7, 13],
  [1, 1, 1, 1],
  [2.5, 0.5, 3],
];

/** Consecutive windows of the given lengths from t = 0, summed the way the scenario plan sums them. */
function windows(lengths: readonly number[]): PhaseWindow[] {
  let startS = 0;
  return lengths.map((length, index) => {
    const window = { name: `p${index}`, startS, endS: startS + length };
    startS = window.endS;
    return window;
  });
}

/** Every request of one stream as the generator schedules it, all answered in 1 ms. */
function generatedOutcomes(ratePerSecond: number, durationS: number, fromS?: number, untilS?: number) {
  const schedule = streamSchedule(
    { ratePerSecond, ...(fromS === undefined ? {} : { fromS }), ...(untilS === undefined ? {} : { untilS }) },
    durationS,
  );
  return Array.from({ length: schedule.count }, (_, k): RequestOutcome => ({
    route: 'checkout',
    dueAtS: dueTimeS(schedule, k),
    stream: 0,
    sendLagMs: 0,
    latencyMs: 1,
    ok: true,
    cause: '',
    status: 201,
  }));
}

describe('exact due times', () => {
  it('puts a request due exactly at a boundary on the boundary, not a hair before it', () => {
    for (const rate of RATES) {
      const schedule = streamSchedule({ ratePerSecond: rate }, 40);
      for (const boundaryS of [1, 7, 10, 20, 30])
        expect(dueTimeS(schedule, boundaryS * rate)).toBe(boundaryS);
    }
    // The old arithmetic, (start + k * 1000 / rate - start) / 1000 from performance.now(), misses: at 8/s
    // request 240 came out at 29.999999999999996 s and was counted before the boundary at 30 s.
    const startedAtMs = 2771.821;
    expect((startedAtMs + 240 * (1000 / 8) - startedAtMs) / 1000).toBeLessThan(30);
  });

  it('counts rate x duration in every window, at every boundary', () => {
    for (const rate of RATES) {
      for (const lengths of PHASE_LENGTHS) {
        const phases = windows(lengths);
        const durationS = phases.at(-1)?.endS ?? 0;
        const schedule = streamSchedule({ ratePerSecond: rate }, durationS);
        expect(schedule.count).toBe(Math.round(rate * durationS));
        for (const phase of phases) {
          const due = rate * (phase.endS - phase.startS);
          if (!Number.isInteger(Math.round(due * 1e9) / 1e9)) continue; // 2.5 s at 1/s: not a whole number
          expect(dueCountInWindow(schedule, phase.startS, phase.endS), `${rate}/s in ${phase.name}`).toBe(
            Math.round(due),
          );
        }
      }
    }
  });

  it('buckets the generated due times through perPhase with exactly the due count per phase', () => {
    for (const rate of RATES) {
      for (const lengths of PHASE_LENGTHS) {
        const phases = windows(lengths);
        const durationS = phases.at(-1)?.endS ?? 0;
        const schedule = streamSchedule({ ratePerSecond: rate }, durationS);
        const counted = perPhase(generatedOutcomes(rate, durationS), phases).map((phase) => phase.completed);
        const due = phases.map((phase) => dueCountInWindow(schedule, phase.startS, phase.endS));
        expect(counted, `${rate}/s over ${lengths.join(' / ')} s`).toEqual(due);
        expect(counted.reduce((a, b) => a + b, 0)).toBe(schedule.count);
      }
    }
    // The run of the issue: 8/s over 10 / 20 / 10 s.
    expect(perPhase(generatedOutcomes(8, 40), windows([10, 20, 10])).map((phase) => phase.completed)).toEqual(
      [80, 160, 80],
    );
  });

  it('counts every whole second exactly', () => {
    for (const rate of RATES) {
      const seconds = perSecond(generatedOutcomes(rate, 12), 12);
      expect(seconds.map((second) => second.completed)).toEqual(Array.from({ length: 12 }, () => rate));
    }
  });

  it('schedules a flood only inside its window, both ends exact', () => {
    const flood = generatedOutcomes(7, 40, 10, 30);
    expect(flood).toHaveLength(140);
    expect(flood[0]?.dueAtS).toBe(10);
    expect(flood.every((outcome) => outcome.dueAtS >= 10 && outcome.dueAtS < 30)).toBe(true);
    expect(perPhase(flood, windows([10, 20, 10])).map((phase) => phase.completed)).toEqual([0, 140, 0]);
  });

  it('ends a stream at the end of the run and schedules nothing at rate 0', () => {
    expect(streamSchedule({ ratePerSecond: 3, fromS: 5, untilS: 60 }, 10).count).toBe(15);
    expect(streamSchedule({ ratePerSecond: 0 }, 10).count).toBe(0);
    expect(streamSchedule({ ratePerSecond: 2.5 }, 3).count).toBe(8); // due at 0, 0.4, ..., 2.8
    expect(dueCountInWindow(streamSchedule({ ratePerSecond: 0 }, 10), 0, 10)).toBe(0);
  });
});
