/**
 * Reading results.json back: old runs, hand-edited files and half-written files all end up here, so
 * every problem becomes a {@link LabError} (`REPORT_*` code) with a stable code and a message naming the file and field.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { isLabError, LabError } from '../errors.ts';
import {
  claimResultSchema,
  RESULTS_SCHEMA_VERSION,
  runResultsSchema,
  type ClaimResult,
  type RunResults,
} from '../results.ts';
import { claimUnit, parseClaimMetric, type ClaimComparison } from '../vocabulary/claim-metrics.ts';

/** Schema versions this release reads; older ones are upgraded to the current one as they are read. */
const READABLE_VERSIONS: readonly number[] = [1, RESULTS_SCHEMA_VERSION];

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
 * Parses the text of a results.json and validates it against the results schema, so a broken file
 * fails here with the field's name instead of deep inside rendering with a TypeError. A version 1 file
 * is upgraded to the current version.
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
  const version =
    typeof value === 'object' && value !== null && 'schemaVersion' in value ? value.schemaVersion : undefined;
  if (typeof version === 'number' && !READABLE_VERSIONS.includes(version)) {
    throw new LabError(
      'REPORT_SCHEMA_UNSUPPORTED',
      `${source} has results schema version ${version}; this renderer reads versions ${READABLE_VERSIONS.join(' and ')}`,
    );
  }
  const checked = (version === 1 ? runResultsV1Schema : runResultsSchema).safeParse(value);
  if (!checked.success) throw notResults(source, checked.error.issues.map(describeIssue));
  // The file's own object, not zod's copy: its key order, and so the JSON a re-rendered page embeds,
  // stays as written. The schema has just checked every field of it.
  if (version !== 1) return value as RunResults;
  const upgraded = upgradeResultsV1(value as RunResultsV1);
  if (Array.isArray(upgraded)) throw notResults(source, upgraded);
  return upgraded;
}

function notResults(source: string, problems: string[]): LabError {
  const shown = problems.slice(0, 5).join('; ');
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
  return new LabError('REPORT_RESULTS_INVALID', `${source} is not a splitlab results file: ${shown}${more}`);
}

/** A zod issue in the words of the old hand-written checks: `deployments[0].audit should be an object`. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const field =
    issue.path.length === 0
      ? 'the top level'
      : issue.path
          .map((key, index) =>
            typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`,
          )
          .join('');
  switch (issue.code) {
    case 'invalid_type': {
      const type = issue.expected === 'record' ? 'object' : issue.expected;
      return `${field} should be ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
    }
    case 'invalid_value': {
      const values = issue.values.map((allowed) => JSON.stringify(allowed));
      return `${field} should be ${values.length === 1 ? values[0] : `one of ${values.join(', ')}`}`;
    }
    default:
      return `${field}: ${issue.message}`;
  }
}

/** A version 1 claim: its comparison inside `metric` and its tolerance as text in `expected`. */
const claimResultV1Schema = claimResultSchema
  .omit({ relativeTo: true, unit: true, atLeast: true, atMost: true })
  .extend({ metric: z.string(), expected: z.string() });

const runResultsV1Schema = runResultsSchema.extend({
  schemaVersion: z.literal(1),
  hypothesis: z.object({ held: z.boolean(), claims: z.array(claimResultV1Schema) }),
});
type RunResultsV1 = z.output<typeof runResultsV1Schema>;

/**
 * Upgrades a version 1 results file to the current version, or says which claims it cannot read.
 * Version 1 wrote a claim's comparison into its metric (`latencyP99Ms ratio to baseline`,
 * `latencyP50Ms minus monolith`, `... ratio to split flood`) and its tolerance as text (`>= 0.95`,
 * `<= 500`, `4500 .. 6500`); version 2 carries them as fields with a unit. This is the only place that
 * reads those strings. A comparison target that names a deployment of the file is a deployment;
 * anything else is a phase.
 */
function upgradeResultsV1(v1: RunResultsV1): RunResults | string[] {
  const deployments = new Set(v1.deployments.map((deployment) => deployment.deployment));
  const problems: string[] = [];
  const claims = v1.hypothesis.claims.map((claim, index): ClaimResult => {
    const { metric: written, expected } = claim;
    const [, metric = written, comparison, other = ''] = /^(\S+) (ratio to|minus) (.+)$/.exec(written) ?? [];
    let relativeTo: ClaimComparison | undefined;
    if (comparison) {
      const [first = '', ...rest] = other.split(' ');
      const to: ClaimComparison = deployments.has(other)
        ? { deployment: other }
        : deployments.has(first) && rest.length > 0
          ? { deployment: first, phase: rest.join(' ') }
          : { phase: other };
      relativeTo = comparison === 'minus' ? { ...to, by: 'difference' } : to;
    }
    const parsedMetric = parseClaimMetric(metric);
    if (typeof parsedMetric === 'string') {
      problems.push(`hypothesis.claims[${index}].metric should name a claim metric (${parsedMetric})`);
    }

    // Groups: `>= atLeast`, `<= atMost`, or `atLeast .. atMost`.
    const bounds = /^(?:>= (\S+)|<= (\S+)|(\S+) \.\. (\S+))$/.exec(expected.trim());
    const toNumber = (text: string | undefined) => (text === undefined ? undefined : Number(text));
    const atLeast = toNumber(bounds?.[1] ?? bounds?.[3]);
    const atMost = toNumber(bounds?.[2] ?? bounds?.[4]);
    if (!bounds || [atLeast, atMost].some((value) => value !== undefined && !Number.isFinite(value))) {
      problems.push(
        `hypothesis.claims[${index}].expected should be like ">= 0.95", "<= 500" or "4500 .. 6500" ` +
          `(got ${JSON.stringify(expected)})`,
      );
    }

    // In the order evaluateClaims writes a claim.
    return {
      id: claim.id,
      description: claim.description,
      deployment: claim.deployment,
      route: claim.route,
      phase: claim.phase,
      metric,
      ...(relativeTo ? { relativeTo } : {}),
      // With a problem the whole file is rejected, so any unit will do.
      unit: typeof parsedMetric === 'string' ? 'count' : claimUnit(parsedMetric, relativeTo),
      ...(atLeast !== undefined ? { atLeast } : {}),
      ...(atMost !== undefined ? { atMost } : {}),
      observed: claim.observed,
      held: claim.held,
    };
  });
  if (problems.length > 0) return problems;
  // Version 1 predates the lab's checks of its own validity: `validity` stays absent (unknown, not valid).
  return { ...v1, schemaVersion: RESULTS_SCHEMA_VERSION, hypothesis: { held: v1.hypothesis.held, claims } };
}
