import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLabError } from '../../lab/errors.ts';
import { collectPredictions } from '../../lab/predictions/ask-predictions.ts';
import {
  describeClaimInWords,
  parsePredictionAnswer,
  predictionUnitOf,
} from '../../lab/predictions/prediction-units.ts';
import { readPredictionsFile } from '../../lab/predictions/predictions-file.ts';
import {
  predictionsLine,
  scorePredictions,
  withinTolerance,
} from '../../lab/predictions/score-predictions.ts';
import { defineScenario, type Scenario } from '../../lab/scenario/define-scenario.ts';
import { makeReportResults } from './fixtures/report-results.ts';
import { tinyScenario } from './fixtures/tiny-scenario.ts';

/** The tiny scenario with a claim of every kind of unit the prompt shows differently. */
function scenarioWithClaims(name = 'tiny'): Scenario {
  const base = tinyScenario();
  return defineScenario({
    ...base,
    name,
    hypothesis: [
      ...base.hypothesis,
      {
        id: 'pay-slow',
        says: 'pay waits',
        deployment: 'split',
        route: 'pay',
        phase: 'cut',
        metric: 'latencyP99Ms',
        atLeast: 4500,
        atMost: 6500,
      },
      {
        id: 'pay-slower-than-baseline',
        says: 'much slower than before',
        deployment: 'split',
        route: 'pay',
        phase: 'cut',
        metric: 'latencyP50Ms',
        relativeTo: { phase: 'baseline' },
        atLeast: 2,
      },
      {
        id: 'pay-drops',
        says: 'pay success drops by 20 points or more',
        deployment: 'split',
        route: 'pay',
        phase: 'cut',
        metric: 'successRate',
        relativeTo: { phase: 'baseline', by: 'difference' },
        atMost: -0.2,
      },
      {
        id: 'no-orphans',
        says: 'no orphan users',
        deployment: 'split',
        route: 'checkout',
        phase: 'cut',
        metric: 'audit:orphanUsers',
        atMost: 0,
      },
    ],
  });
}

const claimOf = (scenario: Scenario, id: string) => {
  const claim = scenario.hypothesis.find((candidate) => candidate.id === id);
  if (!claim) throw new Error(`no claim ${id}`);
  return claim;
};

describe('predictionUnitOf', () => {
  const scenario = scenarioWithClaims();
  it.each([
    ['pay-ok', 'ratio', '%'],
    ['pay-slow', 'ms', 'ms'],
    ['pay-slower-than-baseline', 'factor', '× (a multiple)'],
    ['pay-drops', 'ratio', 'percentage points'],
    ['no-orphans', 'count', 'a count'],
  ])('shows claim %s in its unit (%s as %s)', (id, unit, shown) => {
    expect(predictionUnitOf(claimOf(scenario, id))).toMatchObject({ unit, shown });
  });
});

describe('parsePredictionAnswer', () => {
  const scenario = scenarioWithClaims();
  const unit = (id: string) => predictionUnitOf(claimOf(scenario, id));

  it.each([
    ['80', 0.8],
    ['80%', 0.8],
    ['80 %', 0.8],
    ['  99.5 ', 0.995],
    ['0', 0],
    ['100', 1],
    // The prompt shows %, so 0.8 is 0.8 %, not 80 %.
    ['0.8', 0.008],
  ])('reads a ratio typed as a percentage: %j is %s', (typed, value) => {
    expect(parsePredictionAnswer(typed, unit('pay-ok'))).toBeCloseTo(value, 10);
  });

  it.each([
    ['5000', 5000],
    ['5000 ms', 5000],
    ['5 s', 5000],
    ['1,200', 1200],
  ])('reads a latency in ms: %j is %s', (typed, value) => {
    expect(parsePredictionAnswer(typed, unit('pay-slow'))).toBe(value);
  });

  it.each([
    ['2', 2],
    ['2x', 2],
    ['×2.5', 2.5],
    ['3 ×', 3],
  ])('reads a factor: %j is %s', (typed, value) => {
    expect(parsePredictionAnswer(typed, unit('pay-slower-than-baseline'))).toBe(value);
  });

  it('reads a difference of ratios in percentage points, negative allowed', () => {
    expect(parsePredictionAnswer('-30', unit('pay-drops'))).toBeCloseTo(-0.3, 10);
    expect(parsePredictionAnswer('-30 points', unit('pay-drops'))).toBeCloseTo(-0.3, 10);
  });

  it.each([
    ['pay-ok', 'lots', /"lots" is not a number in %; e.g. 80/],
    ['pay-ok', '120', /120 % is not a share; use 0 to 100/],
    ['pay-ok', '-5', /-5 % is not a share/],
    ['pay-ok', '80 ms', /"80 ms" is not a number in %/],
    ['pay-slow', '-3', /-3 is negative/],
    ['pay-slow', 'x5', /is not a number in ms/],
    ['pay-drops', '-150', /not a difference of two percentages; use -100 to 100/],
    ['no-orphans', '', /"" is not a number/],
  ])('explains why %s cannot be %j', (id, typed, problem) => {
    const result = parsePredictionAnswer(typed, unit(id));
    expect(typeof result).toBe('object');
    expect((result as { problem: string }).problem).toMatch(problem);
  });
});

describe('describeClaimInWords', () => {
  const scenario = scenarioWithClaims();
  it('says what the metric measures, where', () => {
    expect(describeClaimInWords(claimOf(scenario, 'pay-ok'))).toBe(
      'successRate of pay in split during cut: ok / completed among the requests of the route due in the phase',
    );
  });

  it('says what a comparison divides by or subtracts', () => {
    expect(describeClaimInWords(claimOf(scenario, 'pay-slower-than-baseline'))).toMatch(
      /; divided by the same in split during baseline$/,
    );
    expect(describeClaimInWords(claimOf(scenario, 'pay-drops'))).toMatch(
      /; minus the same in split during baseline$/,
    );
  });
});

describe('collectPredictions', () => {
  /** Runs the dialogue with scripted answers; null ends the input. */
  async function dialogue(scenarios: Scenario[], answers: (string | null)[]) {
    const prompts: string[] = [];
    let shown = '';
    const predictions = await collectPredictions(
      scenarios,
      (prompt) => {
        prompts.push(prompt);
        return Promise.resolve(answers.shift() ?? null);
      },
      (text) => (shown += text),
    );
    return { predictions, prompts, shown };
  }

  it('asks each claim in its unit, skips an empty answer and asks again after a bad one', async () => {
    const scenario = scenarioWithClaims();
    const { predictions, prompts, shown } = await dialogue(
      [scenario],
      ['80%', 'soon', '5 s', '', '-25', '0'],
    );
    expect(predictions.get('tiny')).toEqual({
      source: 'terminal',
      values: { 'pay-ok': 0.8, 'pay-slow': 5000, 'pay-drops': -0.25, 'no-orphans': 0 },
    });
    // One prompt per answer: the bad one was asked again.
    expect(prompts).toHaveLength(6);
    expect(prompts[0]).toContain('your guess, in % (e.g. 80; Enter skips)');
    expect(prompts[2]).toContain('in ms');
    expect(shown).toContain('"pay works"');
    expect(shown).toContain('successRate of pay in split during cut');
    expect(shown).toContain('"soon" is not a number in ms');
    expect(shown).toContain('4 predictions recorded');
  });

  it('stops at the end of input and keeps what was typed', async () => {
    const { predictions, shown } = await dialogue([scenarioWithClaims()], ['50']);
    expect(predictions.get('tiny')?.values).toEqual({ 'pay-ok': 0.5 });
    expect(shown).toContain('end of input');
  });

  it('returns nothing for a scenario whose claims were all skipped', async () => {
    const { predictions } = await dialogue([scenarioWithClaims()], ['', '', '', '', '']);
    expect(predictions.size).toBe(0);
  });

  it('asks for every scenario of a batch in turn', async () => {
    const { predictions } = await dialogue(
      [scenarioWithClaims('first'), scenarioWithClaims('second')],
      ['10', '', '', '', '', '', '', '', '', '3'],
    );
    expect(predictions.get('first')?.values).toEqual({ 'pay-ok': 0.1 });
    expect(predictions.get('second')?.values).toEqual({ 'no-orphans': 3 });
  });
});

describe('readPredictionsFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'splitlab-predictions-unit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  let count = 0;
  async function fileWith(text: string): Promise<string> {
    count += 1;
    const file = path.join(dir, `p${count}.json`);
    await writeFile(file, text);
    return file;
  }

  async function usageMessage(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (error) {
      if (isLabError(error) && error.code === 'USAGE') return error.message;
      throw error;
    }
    throw new Error('did not refuse the file');
  }

  const tiny = scenarioWithClaims();
  const other = scenarioWithClaims('other');

  it('reads one scenario keyed by claim id, in the claims’ units', async () => {
    const file = await fileWith(JSON.stringify({ 'pay-ok': 0.8, 'pay-slow': 5000 }));
    const predictions = await readPredictionsFile(file, [tiny], ['tiny']);
    expect(predictions.get('tiny')).toEqual({
      source: 'file',
      file,
      values: { 'pay-ok': 0.8, 'pay-slow': 5000 },
    });
  });

  it('reads a file keyed by scenario name, for all and for a single run', async () => {
    const file = await fileWith(JSON.stringify({ tiny: { 'pay-ok': 0.5 }, other: { 'no-orphans': 0 } }));
    const both = await readPredictionsFile(file, [tiny, other], ['other', 'tiny']);
    expect(both.get('tiny')?.values).toEqual({ 'pay-ok': 0.5 });
    expect(both.get('other')?.values).toEqual({ 'no-orphans': 0 });
    const single = await readPredictionsFile(file, [other], ['other', 'tiny']);
    expect([...single.keys()]).toEqual(['other']);
  });

  it.each([
    ['{ "pay-ok": 0.8, ', /is not JSON \(.*\); see docs\/cli.md#predictions/],
    ['[0.8]', /must be a JSON object \{ "<claim id>": <number>, ... \}, not an array/],
    ['{}', /holds no predictions/],
    [
      '{ "pay-ok": "80%" }',
      /"pay-ok" is "80%" \(a string\), not a number; write a JSON number in the claim's unit, e.g. 0.8 for 80 %/,
    ],
    ['{ "pay-ok": null }', /"pay-ok" is null, not a number/],
    [
      '{ "pay-okay": 0.8 }',
      /"pay-okay" is not a claim of scenario tiny; its claims are: pay-ok, pay-slow, pay-slower-than-baseline, pay-drops, no-orphans/,
    ],
    ['{ "pay-ok": 80 }', /"pay-ok" is 80, but successRate is a ratio from 0 to 1.*write 0.8 for 80 %/],
    ['{ "pay-drops": -30 }', /difference of two ratios, from -1 to 1/],
    ['{ "pay-slow": -1 }', /"pay-slow" is -1; latencyP99Ms cannot be negative/],
    ['{ "tinny": { "pay-ok": 0.8 } }', /"tinny" is not a scenario; .*the scenarios are: other, tiny/],
    ['{ "other": { "pay-ok": 0.8 } }', /has no predictions for tiny; add an entry "tiny"/],
    ['{ "tiny": { "pay-ok": 0.8 }, "pay-slow": 5000 }', /do not mix claim ids and scenario names/],
    ['{ "tiny": { "pay-ok": "high" } }', /"tiny"."pay-ok" is "high" \(a string\), not a number/],
  ])('refuses %s naming the problem and the fix', async (text, message) => {
    const file = await fileWith(text);
    expect(await usageMessage(readPredictionsFile(file, [tiny], ['other', 'tiny']))).toMatch(message);
  });

  it('names the file and the way out when it does not exist', async () => {
    const message = await usageMessage(readPredictionsFile(path.join(dir, 'nope.json'), [tiny], ['tiny']));
    expect(message).toContain(`--predictions ${path.join(dir, 'nope.json')}: no such file`);
    expect(message).toContain('use --predict to type them');
  });

  it('says a file of claim ids cannot serve all', async () => {
    const file = await fileWith('{ "pay-ok": 0.8 }');
    expect(await usageMessage(readPredictionsFile(file, [tiny, other], ['other', 'tiny']))).toMatch(
      /key it by scenario name/,
    );
  });

  it('names the scenario in a problem of a file keyed by scenario', async () => {
    const file = await fileWith('{ "tiny": { "nope": 1 } }');
    expect(await usageMessage(readPredictionsFile(file, [tiny], ['tiny']))).toMatch(
      /scenario tiny: "nope" is not a claim of scenario tiny/,
    );
  });
});

describe('withinTolerance', () => {
  it.each([
    [{ atLeast: 0.95 }, 0.95, true],
    [{ atLeast: 0.95 }, 0.949, false],
    [{ atMost: 500 }, 500, true],
    [{ atMost: 500 }, 501, false],
    [{ atLeast: 4500, atMost: 6500 }, 5000, true],
    [{ atLeast: 4500, atMost: 6500 }, 4000, false],
    [{ atLeast: 4500, atMost: 6500 }, 7000, false],
  ])('%j with %s is %s', (claim, value, expected) => {
    expect(withinTolerance(claim, value)).toBe(expected);
  });
});

describe('scorePredictions', () => {
  it('is undefined without predictions', () => {
    expect(scorePredictions(makeReportResults())).toBeUndefined();
    expect(predictionsLine(undefined)).toBeUndefined();
  });

  it('scores each prediction against the tolerance and the verdict', () => {
    // split-signup-isolated held (≥ 99 %), split-checkout-fails-fast did not (≤ 500 ms, 2012 measured),
    // split-circuit-opens held (≥ 50 %); split-checkout-recovers is not predicted.
    const results = makeReportResults({
      predictions: {
        source: 'file',
        file: '/tmp/guesses.json',
        values: {
          'split-signup-isolated': 0.995,
          'split-checkout-fails-fast': 300,
          'split-circuit-opens': 0.2,
          'not-a-claim': 1,
        },
      },
    });
    const score = scorePredictions(results);
    expect(score).toMatchObject({ made: 3, withinTolerance: 2, agreed: 1 });
    const byId = Object.fromEntries(score?.rows.map((row) => [row.claim.id, row]) ?? []);
    expect(byId['split-signup-isolated']).toMatchObject({ withinTolerance: true, agreesWithVerdict: true });
    // Predicted within ≤ 500 ms, but it measured 2012 ms: the guess said "holds", the claim did not.
    expect(byId['split-checkout-fails-fast']).toMatchObject({
      predicted: 300,
      withinTolerance: true,
      agreesWithVerdict: false,
    });
    expect(byId['split-circuit-opens']).toMatchObject({ withinTolerance: false, agreesWithVerdict: false });
    expect(byId['split-checkout-recovers']?.predicted).toBeUndefined();
    expect(predictionsLine(score)).toBe(
      '2 of 3 predictions within the tolerance; 1 of 3 agreed with the verdict.',
    );
  });

  it('agrees with no verdict when the run is invalid', () => {
    const results = makeReportResults({
      predictions: { source: 'terminal', values: { 'split-signup-isolated': 0.995 } },
      validity: { status: 'invalid', problems: [] },
    });
    const score = scorePredictions(results);
    expect(score?.agreed).toBeNull();
    expect(score?.rows[0]?.agreesWithVerdict).toBeUndefined();
    expect(predictionsLine(score)).toBe(
      '1 of 1 predictions within the tolerance; no verdict to agree with (the run is invalid).',
    );
  });

  it('says so when the predictions are empty', () => {
    const score = scorePredictions(makeReportResults({ predictions: { source: 'terminal', values: {} } }));
    expect(predictionsLine(score)).toBe('No claim was predicted.');
  });
});
