/**
 * `npm run scenario -- <name> --jaeger` as a user runs it: the URL it prints is a real Jaeger whose API
 * lists the traces of both split services while the run goes on, and it is gone when the run ends.
 * Needs `npm run setup -- --jaeger`: skipped on a developer machine without it (saying why), a failure
 * in CI.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lab/project-root.ts';
import { jaegerBinaryPath, locateJaeger } from '../../lab/tracing/jaeger.ts';
import { startCli, type RunningCli } from './support/running-cli.ts';
import { TEST_RUNTIME } from './support/lab.ts';

let workDir: string | undefined;
let running: RunningCli | undefined;

afterEach(async () => {
  if (running && running.cli.exitCode === null) running.cli.kill('SIGTERM');
  await running?.exited;
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** A split-only scenario of 8 healthy seconds: enough for checkouts to cross both services. */
function shortSplitScenario(): string {
  return `import { defineScenario } from ${JSON.stringify(path.join(PROJECT_ROOT, 'lab/scenario/define-scenario.ts'))};
export default defineScenario({
  name: 'traced',
  title: 'Do the traces of a run reach Jaeger?',
  claim: 'Every span the services export reaches the lab, and Jaeger through it.',
  load: { signup: { ratePerSecond: 1 }, pay: { ratePerSecond: 5 }, checkout: { ratePerSecond: 4 } },
  timeline: [{ name: 'calm', durationS: 8, story: 'Nothing happens.' }],
  hypothesis: [{ id: 'checkout-ok', says: 'Healthy checkouts succeed.', deployment: 'split', route: 'checkout', phase: 'calm', metric: 'successRate', atLeast: 0.9 }],
  whatToLookAt: ['Jaeger.'],
  variants: [{ name: 'split', deployment: 'split', settings: {} }],
});
`;
}

describe('--jaeger', () => {
  it('serves the run’s traces of both services in Jaeger, and stops it with the run', async (testContext) => {
    if (!(await locateJaeger())) {
      const reason = `jaeger is not installed at ${jaegerBinaryPath()}: run npm run setup -- --jaeger`;
      if (process.env.CI) throw new Error(reason);
      console.warn(`splitlab: --jaeger test skipped: ${reason}`);
      testContext.skip(reason);
      return;
    }
    workDir = await mkdtemp(path.join(os.tmpdir(), 'jaeger-cli-test-'));
    const scenariosDir = path.join(workDir, 'scenarios');
    await mkdir(scenariosDir);
    await writeFile(path.join(scenariosDir, 'traced.ts'), shortSplitScenario());
    running = startCli('lab/cli/scenario.ts', [
      'traced',
      '--jaeger',
      '--runtime',
      TEST_RUNTIME,
      '--scenarios-dir',
      scenariosDir,
      '--reports-dir',
      path.join(workDir, 'reports'),
    ]);
    await running.sawOutput('Jaeger: http://');
    const queryUrl = /Jaeger: (http:\/\/\S+)/.exec(running.output())?.[1] ?? '';

    // While the run goes on: Jaeger knows both services from the spans the lab forwarded.
    let services: string[] = [];
    while (running.cli.exitCode === null) {
      const answer = (await (await fetch(`${queryUrl}/api/services`)).json()) as { data: string[] | null };
      services = answer.data ?? [];
      if (services.includes('signup-service') && services.includes('payment-service')) break;
      await sleep(500);
    }
    expect(services).toEqual(expect.arrayContaining(['signup-service', 'payment-service']));
    const traces = (await (
      await fetch(
        `${queryUrl}/api/traces?service=signup-service&operation=POST%20%2Fcheckout&limit=5&lookback=1h`,
      )
    ).json()) as { data: { processes: Record<string, { serviceName: string }> }[] };
    const crossing = traces.data.find((trace) =>
      Object.values(trace.processes).some((process) => process.serviceName === 'payment-service'),
    );
    expect(crossing, 'a checkout trace holding spans of both services').toBeDefined();

    expect(await running.exited, running.output()).toBe(0);
    // After the run: nothing answers at Jaeger's address any more.
    await expect(fetch(`${queryUrl}/api/services`)).rejects.toThrow();
  });
});
