import type { CheckResult } from './check.ts';
import type { Verdict } from './verdict.ts';

/** One mark per kind of line; required and optional misses must never look alike. */
export const MARKS = {
  ok: '✓',
  requiredMissing: '✗',
  optionalMissing: '○',
  caveat: '!',
  info: 'i',
} as const;

export const LEGEND =
  `${MARKS.ok} ok   ${MARKS.requiredMissing} missing, needed for a local run   ` +
  `${MARKS.optionalMissing} missing, optional   ${MARKS.caveat} works, with a caveat   ${MARKS.info} information`;

export function markOf(result: Pick<CheckResult, 'status' | 'required'>): string {
  switch (result.status) {
    case 'ok':
      return MARKS.ok;
    case 'missing':
      return result.required ? MARKS.requiredMissing : MARKS.optionalMissing;
    case 'caveat':
      return MARKS.caveat;
    case 'info':
      return MARKS.info;
  }
}

/**
 * One line of the checklist: mark, name (padded to `nameWidth`), detail and, for a miss or a caveat,
 * `fix: <command or step>`.
 *
 * @example
 *   formatLine({ status: 'missing', required: true, name: 'toxiproxy-server', detail: 'not found', fix: 'npm run setup' }, 18)
 *   // '✗ toxiproxy-server   not found — fix: npm run setup'
 */
export function formatLine(
  result: Pick<CheckResult, 'status' | 'required' | 'name' | 'detail' | 'fix'>,
  nameWidth: number,
): string {
  const fix =
    result.fix && (result.status === 'missing' || result.status === 'caveat') ? ` — fix: ${result.fix}` : '';
  return `${markOf(result)} ${result.name.padEnd(nameWidth)}  ${result.detail}${fix}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The closing sentence: ready or not, and what is missing. */
export function formatVerdict(verdict: Verdict, elapsedMs: number): string {
  const list = (names: readonly string[]): string => names.join(', ');
  if (!verdict.ready) {
    const count = verdict.requiredMissing.length;
    return (
      `NOT READY: ${count} check${count === 1 ? '' : 's'} needed for a local run ${count === 1 ? 'is' : 'are'} ` +
      `missing (${list(verdict.requiredMissing)}); do the fix on ${count === 1 ? 'its line' : 'their lines'} and run ` +
      `npm run doctor again. Checked in ${seconds(elapsedMs)}.`
    );
  }
  const optional =
    verdict.optionalMissing.length > 0 ? ` Optional, missing: ${list(verdict.optionalMissing)}.` : '';
  const caveats = verdict.caveats.length > 0 ? ` With a caveat: ${list(verdict.caveats)}.` : '';
  return (
    `READY: a local run will work here (npm run scenario -- partition).${optional}${caveats} ` +
    `Checked in ${seconds(elapsedMs)}.`
  );
}

/**
 * The whole text report: a header, one line per check in the order given, the legend and the verdict.
 */
export function formatReport(
  results: readonly CheckResult[],
  verdict: Verdict,
  context: { platform: string; elapsedMs: number },
): string {
  const nameWidth = Math.max(...results.map((result) => result.name.length));
  return [
    `splitlab doctor: can this machine run the lab? (${context.platform})`,
    '',
    ...results.map((result) => formatLine(result, nameWidth)),
    '',
    LEGEND,
    formatVerdict(verdict, context.elapsedMs),
  ].join('\n');
}

export interface DoctorJson {
  ready: boolean;
  exitCode: number;
  platform: string;
  elapsedMs: number;
  checks: CheckResult[];
}

/** `--json`: the same results for machines, one object. */
export function formatJson(
  results: readonly CheckResult[],
  verdict: Verdict,
  context: { platform: string; elapsedMs: number },
): string {
  const json: DoctorJson = {
    ready: verdict.ready,
    exitCode: verdict.exitCode,
    platform: context.platform,
    elapsedMs: Math.round(context.elapsedMs),
    checks: [...results],
  };
  return JSON.stringify(json, null, 2);
}
