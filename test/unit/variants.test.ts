import { describe, expect, it } from 'vitest';
import { defineScenario } from '../../lab/scenario/define-scenario.ts';
import { defaultVariants, monolith, split } from '../../lab/vocabulary/variants.ts';

const base = {
  name: 'variants',
  title: 'Do variants validate?',
  claim: 'Several split variants can stand next to the monolith.',
  load: { signup: { ratePerSecond: 1 }, pay: { ratePerSecond: 1 }, checkout: { ratePerSecond: 1 } },
  timeline: [{ name: 'calm', durationS: 2, story: 'Nothing happens.' }],
  whatToLookAt: [],
};

describe('variants', () => {
  it('names split variants after their settings', () => {
    expect(split()).toEqual({ name: 'split', deployment: 'split', settings: {} });
    expect(split({ policy: 'retry' })).toEqual({
      name: 'split/retry',
      deployment: 'split',
      settings: { PAYMENT_POLICY: 'retry' },
    });
    expect(split({ policy: 'retry', idempotency: false }).name).toBe('split/retry-no-keys');
    expect(split({ policy: 'breaker', name: 'split/careful' }).name).toBe('split/careful');
  });

  it('lets claims name a variant', () => {
    const scenario = defineScenario({
      ...base,
      variants: [monolith(), split(), split({ policy: 'retry' })],
      hypothesis: [
        {
          id: 'retry-works',
          says: 'retries succeed',
          deployment: 'split/retry',
          route: 'checkout',
          phase: 'calm',
          metric: 'successRate',
          atLeast: 0.9,
          relativeTo: { deployment: 'split' },
        },
      ],
    });
    expect(scenario.variants).toHaveLength(3);
  });

  it('refuses a claim on a variant the scenario does not run, naming the field', () => {
    expect(() =>
      defineScenario({
        ...base,
        hypothesis: [
          {
            id: 'x',
            says: 'x',
            deployment: 'split/retry',
            route: 'pay',
            phase: 'calm',
            metric: 'successRate',
            atLeast: 1,
          },
        ],
      }),
    ).toThrow(/hypothesis\[0\]\.deployment "split\/retry" is not run by this scenario/);
  });

  it('refuses duplicate variant names and unknown policies', () => {
    expect(() => defineScenario({ ...base, hypothesis: [], variants: [split(), split()] })).toThrow(
      /variants\[1\]\.name "split" is used twice/,
    );
    expect(() =>
      defineScenario({
        ...base,
        hypothesis: [],
        variants: [{ name: 'split/x', deployment: 'split', settings: { PAYMENT_POLICY: 'pray' } }],
      }),
    ).toThrow(/variants\[0\]\.settings\.PAYMENT_POLICY "pray"/);
  });

  it('runs the monolith and split when a scenario names no variants', () => {
    expect(defineScenario({ ...base, hypothesis: [] }).variants).toEqual(defaultVariants());
    expect(defaultVariants().map((variant) => variant.name)).toEqual(['monolith', 'split']);
  });

  it('refuses a variant of an unknown deployment, and a scenario that runs nothing', () => {
    expect(() =>
      defineScenario({
        ...base,
        hypothesis: [],
        variants: [{ name: 'cloud', deployment: 'cloud' as never, settings: {} }],
      }),
    ).toThrow(/variants\[0\]\.deployment "cloud" is not monolith or split/);
    expect(() => defineScenario({ ...base, hypothesis: [], variants: [] })).toThrow(
      /variants must list at least one deployment/,
    );
  });
});
