import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLabError } from '../../lab/errors.ts';
import { findLab, NoLabUpError } from '../../lab/interactive/control-client.ts';
import {
  claimLab,
  controlPaths,
  type ControlPaths,
  type LabState,
} from '../../lab/interactive/control-files.ts';

let root: string;
let paths: ControlPaths;

const stateOf = (pid: number): LabState => ({
  pid,
  startedAt: '2025-01-31T12:00:00.000Z',
  status: 'ready',
  deployment: 'split',
  runtime: 'local',
  load: true,
  socket: 'x',
});

/** A pid that is certainly gone: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid ?? -1;
}

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'interactive-files-test-'));
  paths = controlPaths(root);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the control files', () => {
  it('are created in a directory only the owner may enter', async () => {
    await claimLab(paths, stateOf(process.pid), () => undefined);
    expect((await stat(paths.dir)).mode & 0o777).toBe(0o700);
    expect((await stat(paths.state)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(paths.state, 'utf8'))).toMatchObject({ pid: process.pid });
  });

  // The refusal of a second lab while the first lives needs a live lab.ts: see
  // test/integration/interactive-lab.test.ts.
  it('are taken over from a lab that is gone (kill -9), and it is said', async () => {
    const lines: string[] = [];
    await claimLab(paths, stateOf(await deadPid()), () => undefined);
    await claimLab(paths, stateOf(process.pid), (line) => lines.push(line));
    expect(lines.join('\n')).toMatch(
      /removed the control socket and state file of a lab that is gone \(pid \d+\)/,
    );
    expect(JSON.parse(await readFile(paths.state, 'utf8'))).toMatchObject({ pid: process.pid });
  });

  it('say "no lab is up" when there is no state file, and clean a stale one', async () => {
    await expect(findLab(paths)).rejects.toBeInstanceOf(NoLabUpError);
    await claimLab(paths, stateOf(await deadPid()), () => undefined);
    await writeFile(paths.socket, '');
    const error = await findLab(paths).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NoLabUpError);
    expect(isLabError(error) && error.message).toMatch(
      /^no lab is up; start one with npm run lab -- up \(the lab of pid \d+ is gone; its control files were removed\)$/,
    );
    await expect(stat(paths.state)).rejects.toThrow();
    await expect(stat(paths.socket)).rejects.toThrow();
  });
});
