/**
 * Known answer for coordinated omission: the shipped scenario on the real stack, pay measured at once by
 * the open-model probe and by autocannon while payment-service is frozen for 3 s. Its own claims carry the
 * tolerances; this test adds what results.json and the report must show of the closed model.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../lab/scenario/run-scenario.ts';
import { writeRunReport } from '../../lab/report/write-report.ts';
import coordinatedOmission from '../../scenarios/coordinated-omission.ts';
import { testRuntime } from './support/lab.ts';

describe('coordinated omission', () => {
  it('shows the stall in the open probe and hides it in the closed model of the same seconds', async () => {
    const results = await runScenario(coordinatedOmission, { runtime: testRuntime(), log: () => undefined });
    console.log(results.hypothesis.claims.map((claim) => `${claim.id} ${claim.observed}`).join('\n'));
    for (const claim of results.hypothesis.claims) {
      expect(claim, JSON.stringify(claim)).toMatchObject({ held: true });
    }
    const split = results.deployments[0];
    const pay = split?.routes.find((route) => route.route === 'pay');
    // The probe's figures and the closed model's are kept apart, the closed ones marked.
    expect(pay?.phases.find((phase) => phase.phase === 'stall')?.completed).toBe(60);
    expect(pay?.closedModel?.phases.every((phase) => phase.loadModel === 'closed')).toBe(true);
    expect(split?.closedStreams).toMatchObject([
      { route: 'pay', connections: 2, role: 'steady', bounded: [] },
    ]);
    // Frozen seconds 11 and 12: the closed model sent nothing, the probe its 20 each.
    for (const t of [11, 12]) {
      expect(pay?.closedModel?.seconds[t]?.completed).toBe(0);
      expect(pay?.seconds[t]?.completed).toBe(20);
    }
    expect(results.load.filter((load) => load.route === 'pay')).toMatchObject([
      { ratePerSecond: 20 },
      { model: 'closed', connections: 2 },
    ]);

    const dir = await mkdtemp(path.join(tmpdir(), 'splitlab-co-'));
    try {
      const { htmlPath } = await writeRunReport(dir, results);
      const page = await readFile(htmlPath, 'utf8');
      expect(page).toContain('closed model</strong> (autocannon, 2');
      expect(page).toContain('Closed-model load');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
