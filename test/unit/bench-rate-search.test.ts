import { describe, expect, it } from 'vitest';
import { highestPassingRate } from '../../lab/bench/generator-capacity.ts';

const below = (limit: number) => async (rate: number) => ({ rate, passed: rate < limit });

describe('highestPassingRate', () => {
  it('doubles until a step fails, then bisects to within 10 %', async () => {
    const search = await highestPassingRate(below(3000), { startRate: 500 });
    expect(search.steps.map((step) => step.rate)).toEqual([500, 1000, 2000, 4000, 3000, 2500, 2750]);
    expect(search.highest?.rate).toBe(2750);
  });

  it('lands within the precision of the true limit whatever it is', async () => {
    for (const limit of [600, 1234, 5000, 9999, 40_000]) {
      const search = await highestPassingRate(below(limit), { startRate: 500 });
      const highest = search.highest?.rate ?? 0;
      expect(highest).toBeLessThan(limit);
      expect(highest).toBeGreaterThanOrEqual(limit * 0.85);
      expect(search.steps.length).toBeLessThanOrEqual(12);
    }
  });

  it('bisects below the first step when it fails, says so when nothing passes, stops at the ceiling', async () => {
    expect((await highestPassingRate(below(100), { startRate: 500 })).highest?.rate).toBe(75);
    expect((await highestPassingRate(below(10), { startRate: 500 })).highest).toBeNull();
    const all = await highestPassingRate(below(Infinity), { startRate: 500, maxRate: 4000 });
    expect(all.highest?.rate).toBe(4000);
  });
});
