import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { LabError } from '../errors.ts';
import type { Predictions } from '../results.ts';
import type { Scenario } from '../scenario/define-scenario.ts';
import { predictionUnitOf } from './prediction-units.ts';

/**
 * A predictions file (`--predictions <file>`) is JSON in one of two forms:
 *
 * - one scenario's predictions, by claim id: `{ "split-checkout-fails": 0.05, ... }`;
 * - predictions of several scenarios, by scenario name, for `all` (a single run reads its own entry):
 *   `{ "partition": { "split-checkout-fails": 0.05 }, "latency": { ... } }`.
 *
 * Values are JSON numbers in the claim's unit, as the scenario writes its atLeast/atMost: a ratio is 0..1
 * (0.8 for 80 %), a latency in ms, a factor as a plain multiple. A claim left out is not predicted.
 */
const claimValuesSchema = z.record(z.string(), z.number());
const byScenarioSchema = z.record(z.string(), claimValuesSchema);
const fileSchema = z.union([claimValuesSchema, byScenarioSchema]);

const FIX = 'see docs/cli.md#predictions for the format';

/** A value as a message shows it: `"80%" (a string)`, `null`, `an array`. */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `${JSON.stringify(value)} (a string)`;
  if (typeof value === 'object') return 'an object';
  return `${String(value)} (${typeof value})`;
}

/**
 * Reads and checks a predictions file against the scenarios about to run, before anything starts.
 * Every problem is a USAGE error that names the file, the entry and the fix: a file that cannot be read,
 * is not JSON, names a claim (or scenario) that does not exist, or holds something other than a number.
 * `knownScenarios` are every scenario name of the scenarios directory, so that a file written for `all`
 * can be used for a single run too. Returns the predictions of each scenario that has any.
 *
 * @example
 *   const bySenario = await readPredictionsFile('guesses.json', [partition], ['partition', 'latency']);
 *   bySenario.get('partition') // { source: 'file', file: '/abs/guesses.json', values: { ... } }
 */
export async function readPredictionsFile(
  file: string,
  scenarios: readonly Scenario[],
  knownScenarios: readonly string[],
): Promise<Map<string, Predictions>> {
  const absolute = path.resolve(file);
  const problem = (message: string): LabError => new LabError('USAGE', `--predictions ${file}: ${message}`);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw problem(
      code === 'ENOENT'
        ? `no such file; write your predictions there first (${FIX}), or use --predict to type them`
        : `cannot be read (${code ?? (error as Error).message}); check the path and its permissions`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw problem(`is not JSON (${(error as Error).message}); ${FIX}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) throw problem(shapeProblem(json));
  const entries = Object.entries(parsed.data);
  if (entries.length === 0)
    throw problem(`holds no predictions; write { "<claim id>": <number>, ... } (${FIX})`);
  const byScenario = entries.length > 0 && entries.every(([, value]) => typeof value === 'object');
  const perScenario = new Map<string, Record<string, number>>();
  if (byScenario) {
    for (const [name, values] of entries as [string, Record<string, number>][]) {
      if (!knownScenarios.includes(name))
        throw problem(
          `"${name}" is not a scenario; the file is keyed by scenario name (its values are objects), ` +
            `and the scenarios are: ${knownScenarios.join(', ')}`,
        );
      perScenario.set(name, values);
    }
    if (!scenarios.some((scenario) => perScenario.has(scenario.name)))
      throw problem(
        `has no predictions for ${scenarios.map((scenario) => scenario.name).join(', ')}; ` +
          `add an entry "${scenarios[0]?.name ?? ''}": { "<claim id>": <number>, ... }`,
      );
  } else {
    if (scenarios.length !== 1)
      throw problem(
        'is keyed by claim id, which fits one scenario; for all, key it by scenario name: ' +
          '{ "partition": { "<claim id>": <number> }, ... }',
      );
    perScenario.set(scenarios[0]?.name ?? '', parsed.data as Record<string, number>);
  }
  const result = new Map<string, Predictions>();
  for (const scenario of scenarios) {
    const values = perScenario.get(scenario.name);
    if (!values) continue;
    checkValues(scenario, values, (message) =>
      problem(byScenario ? `scenario ${scenario.name}: ${message}` : message),
    );
    result.set(scenario.name, { source: 'file', file: absolute, values: { ...values } });
  }
  return result;
}

/** What is wrong with the shape of a file that zod refused, in words naming the entry. */
function shapeProblem(json: unknown): string {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return `must be a JSON object { "<claim id>": <number>, ... }, not ${describeValue(json)}; ${FIX}`;
  const entries = Object.entries(json);
  const nested = entries.some(
    ([, value]) => typeof value === 'object' && value !== null && !Array.isArray(value),
  );
  for (const [key, value] of entries) {
    if (nested) {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return (
          `"${key}" is ${describeValue(value)}; a file keyed by scenario name holds an object per scenario ` +
          `({ "${key}": { "<claim id>": <number> } }); do not mix claim ids and scenario names`
        );
      for (const [claim, inner] of Object.entries(value as Record<string, unknown>)) {
        if (typeof inner !== 'number')
          return `"${key}"."${claim}" is ${describeValue(inner)}, not a number; write a JSON number in the claim's unit, e.g. 0.8 for 80 %`;
      }
    } else if (typeof value !== 'number') {
      return `"${key}" is ${describeValue(value)}, not a number; write a JSON number in the claim's unit, e.g. 0.8 for 80 %`;
    }
  }
  return `does not have the shape { "<claim id>": <number>, ... }; ${FIX}`;
}

/** Each claim id must be the scenario's, and each value one the claim's metric can have. */
function checkValues(
  scenario: Scenario,
  values: Record<string, number>,
  problem: (message: string) => LabError,
): void {
  const ids = scenario.hypothesis.map((claim) => claim.id);
  for (const [id, value] of Object.entries(values)) {
    const claim = scenario.hypothesis.find((candidate) => candidate.id === id);
    if (!claim)
      throw problem(`"${id}" is not a claim of scenario ${scenario.name}; its claims are: ${ids.join(', ')}`);
    const unit = predictionUnitOf(claim);
    if (unit.unit === 'ratio' && !unit.difference && (value < 0 || value > 1))
      throw problem(
        `"${id}" is ${value}, but ${claim.metric} is a ratio from 0 to 1, written like the scenario's ` +
          `bounds: write ${value > 1 && value <= 100 ? value / 100 : 0.8} for ${value > 1 && value <= 100 ? value : 80} %`,
      );
    if (unit.unit === 'ratio' && unit.difference && (value < -1 || value > 1))
      throw problem(
        `"${id}" is ${value}, but it is a difference of two ratios, from -1 to 1: write -0.2 for 20 points less`,
      );
    if (!unit.difference && value < 0)
      throw problem(`"${id}" is ${value}; ${claim.metric} cannot be negative`);
  }
}
