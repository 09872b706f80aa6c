import { describe, expect, it } from 'vitest';
import { runChecks, type Check, type CheckResult } from '../../lab/doctor/check.ts';
import {
  formatJson,
  formatLine,
  formatReport,
  LEGEND,
  markOf,
  MARKS,
} from '../../lab/doctor/checklist-text.ts';
import { EXIT_NOT_READY, EXIT_READY, judgeVerdict } from '../../lab/doctor/verdict.ts';

function result(overrides: Partial<CheckResult> & Pick<CheckResult, 'name'>): CheckResult {
  return { id: overrides.name, required: true, status: 'ok', detail: 'fine', durationMs: 1, ...overrides };
}

const MACHINE = [
  result({ name: 'toxiproxy-server', detail: '/x/.lab/bin/toxiproxy-server (version git)' }),
  result({
    name: 'CPUs and pinning',
    status: 'caveat',
    detail: '2 CPUs; macOS has no taskset',
    fix: 'nothing to install on macOS',
  }),
  result({
    name: 'Docker engine',
    required: false,
    status: 'missing',
    detail: 'no engine answers',
    fix: 'Start a Docker engine',
  }),
  result({ name: '`all` on local', required: false, status: 'info', detail: 'about 22 min' }),
];

describe('judgeVerdict', () => {
  it('is ready (exit 0) when only optional checks are missing and some work with a caveat', () => {
    const verdict = judgeVerdict(MACHINE);
    expect(verdict).toEqual({
      ready: true,
      exitCode: EXIT_READY,
      requiredMissing: [],
      optionalMissing: ['Docker engine'],
      caveats: ['CPUs and pinning'],
    });
  });

  it('is not ready (exit 1) as soon as one required check is missing, and names it', () => {
    const results = [
      ...MACHINE,
      result({ name: 'PostgreSQL binaries', status: 'missing', detail: 'not installed', fix: 'npm ci' }),
    ];
    const verdict = judgeVerdict(results);
    expect(verdict.ready).toBe(false);
    expect(verdict.exitCode).toBe(EXIT_NOT_READY);
    expect(verdict.requiredMissing).toEqual(['PostgreSQL binaries']);
  });
});

describe('the checklist text', () => {
  it('marks required and optional misses differently, and every kind of line with its own mark', () => {
    const marks = [
      markOf({ status: 'ok', required: true }),
      markOf({ status: 'missing', required: true }),
      markOf({ status: 'missing', required: false }),
      markOf({ status: 'caveat', required: false }),
      markOf({ status: 'info', required: false }),
    ];
    expect(marks).toEqual([MARKS.ok, MARKS.requiredMissing, MARKS.optionalMissing, MARKS.caveat, MARKS.info]);
    expect(new Set(marks).size).toBe(5);
  });

  it('puts mark, padded name, detail and, for a miss or a caveat only, the fix on one line', () => {
    expect(
      formatLine(
        {
          status: 'missing',
          required: true,
          name: 'toxiproxy-server',
          detail: 'not found',
          fix: 'npm run setup',
        },
        18,
      ),
    ).toBe('✗ toxiproxy-server    not found — fix: npm run setup');
    expect(
      formatLine({ status: 'ok', required: true, name: 'npm', detail: '11.19.1', fix: 'ignored' }, 5),
    ).toBe('✓ npm    11.19.1');
    expect(
      formatLine({ status: 'caveat', required: true, name: 'CPUs', detail: '1 CPU', fix: 'more CPUs' }, 4),
    ).toBe('! CPUs  1 CPU — fix: more CPUs');
  });

  it('prints one line per check in the given order, the legend, and the verdict last', () => {
    const text = formatReport(MACHINE, judgeVerdict(MACHINE), { platform: 'darwin-arm64', elapsedMs: 2345 });
    const lines = text.split('\n');
    expect(lines[0]).toBe('splitlab doctor: can this machine run the lab? (darwin-arm64)');
    const checkLines = lines.slice(2, 2 + MACHINE.length);
    expect(checkLines.map((line) => line.slice(2, 18).trim())).toEqual(MACHINE.map((one) => one.name));
    // Details start in one column: after the mark, the longest name and two spaces.
    const column = 2 + Math.max(...MACHINE.map((one) => one.name.length)) + 2;
    expect(checkLines.map((line, index) => line.indexOf(MACHINE[index]?.detail ?? '?'))).toEqual(
      MACHINE.map(() => column),
    );
    expect(lines).toContain(LEGEND);
    expect(lines.at(-1)).toBe(
      'READY: a local run will work here (npm run scenario -- partition). Optional, missing: Docker engine. ' +
        'With a caveat: CPUs and pinning. Checked in 2.3 s.',
    );
  });

  it('says NOT READY with the missing checks when a required one is missing', () => {
    const results = [
      result({ name: 'npm packages', status: 'missing', detail: 'not installed: pg', fix: 'npm ci' }),
      result({ name: 'toxiproxy-server', status: 'missing', detail: 'not found', fix: 'npm run setup' }),
    ];
    const last = formatReport(results, judgeVerdict(results), { platform: 'linux-x64', elapsedMs: 1000 })
      .split('\n')
      .at(-1);
    expect(last).toBe(
      'NOT READY: 2 checks needed for a local run are missing (npm packages, toxiproxy-server); do the fix on ' +
        'their lines and run npm run doctor again. Checked in 1.0 s.',
    );
  });

  it('gives machines the same results as one JSON object', () => {
    const json = JSON.parse(
      formatJson(MACHINE, judgeVerdict(MACHINE), { platform: 'linux-x64', elapsedMs: 1234.5 }),
    ) as { ready: boolean; exitCode: number; elapsedMs: number; checks: CheckResult[] };
    expect(json.ready).toBe(true);
    expect(json.exitCode).toBe(0);
    expect(json.elapsedMs).toBe(1235);
    expect(json.checks.map((check) => [check.name, check.status, check.required])).toEqual(
      MACHINE.map((check) => [check.name, check.status, check.required]),
    );
  });
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function check(overrides: Partial<Check> & Pick<Check, 'run'>): Check {
  return { id: 'c', name: 'c', required: true, timeoutMs: 1000, ...overrides };
}

describe('runChecks', () => {
  it('turns a check that never answers into a miss after its own timeout, and aborts its signal', async () => {
    let aborted = false;
    const started = performance.now();
    const [hung, quick] = await runChecks([
      check({
        name: 'hung',
        timeoutMs: 150,
        run: (signal) =>
          new Promise(() => {
            signal.addEventListener('abort', () => (aborted = true));
          }),
      }),
      check({ name: 'quick', run: async () => ({ status: 'ok', detail: 'fine' }) }),
    ]);
    const elapsed = performance.now() - started;
    expect(hung).toMatchObject({ name: 'hung', status: 'missing', detail: 'no answer within 150 ms' });
    expect(aborted).toBe(true);
    expect(quick).toMatchObject({ name: 'quick', status: 'ok' });
    // 150 ms of its own time in 50 ms ticks; a loaded machine may be late by some ticks.
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(1000);
  });

  it('turns a check that throws into a miss that carries the error', async () => {
    const [broken] = await runChecks([
      check({
        run: async () => {
          throw new Error('boom');
        },
      }),
    ]);
    expect(broken).toMatchObject({ status: 'missing', detail: 'the check itself failed: boom' });
  });

  it('does not blame a check for time another check held the event loop', async () => {
    // `patient` needs three turns of the loop; `greedy` holds the loop longer than patient's timeout.
    // A plain wall-clock timeout would fire first after the block and call patient late.
    const [patient] = await runChecks([
      check({
        name: 'patient',
        timeoutMs: 200,
        run: async () => {
          for (let step = 0; step < 3; step += 1) await sleep(5);
          return { status: 'ok', detail: 'answered' };
        },
      }),
      check({
        name: 'greedy',
        run: async () => {
          const until = performance.now() + 400;
          while (performance.now() < until) {
            // holds the event loop, as a large synchronous import does
          }
          return { status: 'ok', detail: 'done' };
        },
      }),
    ]);
    expect(patient).toMatchObject({ status: 'ok', detail: 'answered' });
  });
});
