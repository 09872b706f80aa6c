/**
 * Reading results.json back: old runs, hand-edited files and half-written files all end up here, so
 * every problem becomes a {@link LabError} (`REPORT_*` code) with a stable code and a message naming the file and field.
 */
import { readFile } from 'node:fs/promises';
import { isLabError, LabError } from '../errors.ts';
import { RESULTS_SCHEMA_VERSION, type RunResults } from '../results.ts';

/** True for errors about a results.json file. */
export function isReportError(error: unknown): error is LabError {
  return isLabError(error) && error.code.startsWith('REPORT_');
}

/**
 * Reads and checks a results.json file.
 *
 * @example const results = await readRunResults('reports/2026-11-25-partition/results.json');
 */
export async function readRunResults(path: string): Promise<RunResults> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new LabError('REPORT_RESULTS_UNREADABLE', `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseRunResults(text, path);
}

/**
 * Parses the text of a results.json and checks the fields the report reads, so a broken file fails
 * here with the field's name instead of deep inside rendering with a TypeError.
 *
 * @example parseRunResults(await readFile(path, 'utf8'), path)
 */
export function parseRunResults(text: string, source = 'results.json'): RunResults {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LabError(
      'REPORT_RESULTS_NOT_JSON',
      `${source} is not valid JSON: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (
    isObject(value) &&
    typeof value.schemaVersion === 'number' &&
    value.schemaVersion !== RESULTS_SCHEMA_VERSION
  ) {
    throw new LabError(
      'REPORT_SCHEMA_UNSUPPORTED',
      `${source} has results schema version ${value.schemaVersion}; this renderer reads version ${RESULTS_SCHEMA_VERSION}`,
    );
  }
  const problems = findProblems(value);
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).join('; ');
    const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
    throw new LabError('REPORT_RESULTS_INVALID', `${source} is not a splitlab results file: ${shown}${more}`);
  }
  return value as RunResults;
}

function findProblems(value: unknown): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, field: string, what: string) => {
    if (!ok) problems.push(`${field} should be ${what}`);
  };
  if (!isObject(value)) return ['the top level should be an object'];

  expect(value.schemaVersion === RESULTS_SCHEMA_VERSION, 'schemaVersion', String(RESULTS_SCHEMA_VERSION));
  for (const field of ['runId', 'startedAt', 'finishedAt'] as const) {
    expect(typeof value[field] === 'string', field, 'a string');
  }
  expect(typeof value.wallTimeMs === 'number', 'wallTimeMs', 'a number');

  const scenario = value.scenario;
  if (isObject(scenario)) {
    for (const field of ['name', 'title', 'claim'] as const) {
      expect(typeof scenario[field] === 'string', `scenario.${field}`, 'a string');
    }
    expect(isStringArray(scenario.whatToLookAt), 'scenario.whatToLookAt', 'an array of strings');
  } else {
    expect(false, 'scenario', 'an object');
  }

  const runtime = value.runtime;
  expect(
    isObject(runtime) && typeof runtime.name === 'string' && isObject(runtime.details),
    'runtime',
    'an object with name and details',
  );

  for (const field of ['load', 'phases', 'faults', 'deployments'] as const) {
    expect(Array.isArray(value[field]), field, 'an array');
  }
  if (Array.isArray(value.faults)) {
    value.faults.forEach((fault, index) => {
      expect(isObject(fault) && isStringArray(fault.deployments), `faults[${index}].deployments`, 'an array');
    });
  }
  if (Array.isArray(value.deployments)) {
    value.deployments.forEach((deployment, index) => {
      const at = `deployments[${index}]`;
      if (!isObject(deployment)) {
        expect(false, at, 'an object');
        return;
      }
      expect(typeof deployment.deployment === 'string', `${at}.deployment`, 'a string');
      for (const field of ['routes', 'services', 'recovery'] as const) {
        expect(Array.isArray(deployment[field]), `${at}.${field}`, 'an array');
      }
      expect(isObject(deployment.audit), `${at}.audit`, 'an object');
      if (Array.isArray(deployment.routes)) {
        deployment.routes.forEach((route, routeIndex) => {
          expect(
            isObject(route) && Array.isArray(route.seconds) && Array.isArray(route.phases),
            `${at}.routes[${routeIndex}]`,
            'an object with seconds and phases arrays',
          );
        });
      }
      if (Array.isArray(deployment.services)) {
        deployment.services.forEach((service, serviceIndex) => {
          expect(
            isObject(service) && Array.isArray(service.samples),
            `${at}.services[${serviceIndex}].samples`,
            'an array',
          );
        });
      }
    });
  }

  const hypothesis = value.hypothesis;
  expect(
    isObject(hypothesis) && typeof hypothesis.held === 'boolean' && Array.isArray(hypothesis.claims),
    'hypothesis',
    'an object with held and claims',
  );
  return problems;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
