import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LabError } from '../errors.ts';
import type { Scenario } from './define-scenario.ts';

/** Names of the scenario files in `dir` (`partition.ts` -> `partition`), sorted. */
export async function listScenarioNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch(() => []);
  return entries
    .filter((entry) => entry.endsWith('.ts') && !entry.endsWith('.d.ts') && !entry.startsWith('_'))
    .map((entry) => entry.slice(0, -'.ts'.length))
    .sort();
}

/**
 * Loads `dir/<name>.ts`; its default export must come from `defineScenario`, which has validated it.
 *
 * @example
 *   const scenario = await loadScenario(path.join(root, 'scenarios'), 'partition');
 */
export async function loadScenario(dir: string, name: string): Promise<Scenario> {
  const known = await listScenarioNames(dir);
  if (!known.includes(name)) {
    throw new LabError(
      'UNKNOWN_SCENARIO',
      `unknown scenario "${name}". Known scenarios: ${known.join(', ') || '(none)'}. List them with: npm run scenario -- --list`,
    );
  }
  const file = path.join(dir, `${name}.ts`);
  const module = (await import(pathToFileURL(file).href)) as { default?: Scenario };
  const scenario = module.default;
  if (!scenario || typeof scenario !== 'object' || !Array.isArray(scenario.timeline)) {
    throw new LabError('INVALID_SCENARIO', `${file} must \`export default defineScenario({...})\``);
  }
  if (scenario.name !== name) {
    throw new LabError(
      'INVALID_SCENARIO',
      `${file} declares name "${scenario.name}"; it must match the file name "${name}"`,
    );
  }
  return scenario;
}
