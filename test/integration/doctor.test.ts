/**
 * `npm run doctor` on this machine, as an attendee runs it: the real checks, the real exit code. Then
 * the same with no Docker engine, and with no toxiproxy-server where the lab looks for it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorChecks, TOXIPROXY_ROOT_ENV } from '../../lab/doctor/checks.ts';
import type { DoctorJson } from '../../lab/doctor/checklist-text.ts';
import { PROJECT_ROOT } from '../../lab/project-root.ts';
import { probeDocker } from '../../lab/runtime/containers/docker.ts';

const NODE_24 = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node');
/** The brief's promise: the whole checklist in a few seconds, well under 10 s. */
const DOCTOR_BUDGET_MS = 10_000;
const DEFAULT_SOCKET = '/var/run/docker.sock';

interface DoctorRun {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

/** Runs doctor with Node 24, optionally behind a `wrapper` command (unshare), with extra environment. */
function runDoctor(args: string[], env: NodeJS.ProcessEnv = {}, wrapper: string[] = []): Promise<DoctorRun> {
  const started = performance.now();
  const command = [...wrapper, NODE_24, 'lab/cli/doctor.ts', ...args];
  const child = spawn(command[0] ?? NODE_24, command.slice(1), {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr, wallMs: performance.now() - started })),
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\`]/g, '\\$&');
}

/** The checklist line of the check named `name`. */
function lineOf(stdout: string, name: string): string {
  const line = stdout.split('\n').find((one) => new RegExp(`^. ${escapeRegExp(name)}\\s{2}`).test(one));
  expect(line, `a line for ${name} in:\n${stdout}`).toBeDefined();
  return line ?? '';
}

const CHECK_NAMES = doctorChecks({ projectRoot: PROJECT_ROOT, reportsDir: '', scenariosDir: '' }).map(
  (check) => check.name,
);

/**
 * Hiding the engine takes more than DOCKER_HOST (see the next test): testcontainers falls back to
 * /var/run/docker.sock. As root, a private mount namespace lays /dev/null over that socket for the
 * doctor process alone; without such a socket, DOCKER_HOST alone leaves no engine.
 */
const isRoot = process.getuid?.() === 0;
const hideDockerWrapper = existsSync(DEFAULT_SOCKET)
  ? isRoot && existsSync('/usr/bin/unshare')
    ? [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount --bind /dev/null ${DEFAULT_SOCKET} && exec "$@"`,
        'sh',
      ]
    : undefined
  : [];

let dockerAnswers = false;
let emptyRoot: string;

beforeAll(async () => {
  dockerAnswers = (await probeDocker()).available;
  emptyRoot = await mkdtemp(path.join(os.tmpdir(), 'splitlab-doctor-test-'));
});

afterAll(async () => {
  await rm(emptyRoot, { recursive: true, force: true });
});

describe('npm run doctor', () => {
  it('exits 0 on this machine, prints every check in a few seconds, and says READY', async () => {
    const run = await runDoctor([]);
    console.log(`doctor took ${Math.round(run.wallMs)} ms (wall, Node start included)`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const name of CHECK_NAMES) expect(lineOf(run.stdout, name)).toMatch(/^[✓○!i] /);
    expect(lineOf(run.stdout, 'toxiproxy-server')).toMatch(/^✓ /);
    expect(lineOf(run.stdout, '`all` on local')).toMatch(/^i `all` on local\s+about \d+ min: /);
    expect(run.stdout.trim().split('\n').at(-1)).toMatch(/^READY: a local run will work here/);
    expect(run.wallMs).toBeLessThan(DOCTOR_BUDGET_MS);
  });

  it('gives machines every check as JSON, with the same verdict', async () => {
    const run = await runDoctor(['--json']);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as DoctorJson;
    expect(json.ready).toBe(true);
    expect(json.checks.map((check) => check.name)).toEqual(CHECK_NAMES);
    expect(json.checks.every((check) => check.durationMs >= 0 && check.detail.length > 0)).toBe(true);
    expect(json.elapsedMs).toBeLessThan(DOCTOR_BUDGET_MS);
  });

  it.skipIf(hideDockerWrapper === undefined)(
    'with no Docker engine, still exits 0 and names the engine as an optional miss with its fix',
    async () => {
      const run = await runDoctor([], { DOCKER_HOST: 'unix:///nonexistent.sock' }, hideDockerWrapper ?? []);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(lineOf(run.stdout, 'Docker engine')).toMatch(
        /^○ Docker engine\s+no engine answers \(.+\); only --runtime containers needs one — fix: Start a Docker engine/,
      );
      expect(lineOf(run.stdout, 'Docker images')).toMatch(
        /^○ .* — fix: once a Docker engine answers: npm run images$/,
      );
      expect(run.stdout.trim().split('\n').at(-1)).toMatch(
        /^READY: .* Optional, missing: Docker engine, Docker images/,
      );
    },
  );

  it('says when DOCKER_HOST names no engine but testcontainers falls back to the default socket', async (context) => {
    if (!dockerAnswers || !existsSync(DEFAULT_SOCKET)) context.skip();
    const run = await runDoctor([], { DOCKER_HOST: 'unix:///nonexistent.sock' });
    expect(run.code).toBe(0);
    expect(lineOf(run.stdout, 'Docker engine')).toMatch(
      /^! Docker engine\s+DOCKER_HOST=unix:\/\/\/nonexistent\.sock does not answer; testcontainers falls back to \/var\/run\/docker\.sock/,
    );
  });

  it('with no toxiproxy-server where the lab looks, exits 1 and names npm run setup', async () => {
    // Where the lab looks: PATH (without any folder that holds one), then <root>/.lab/bin (an empty root).
    const pathWithout = (process.env.PATH ?? '')
      .split(path.delimiter)
      .filter((dir) => dir && !existsSync(path.join(dir, 'toxiproxy-server')))
      .join(path.delimiter);
    const run = await runDoctor([], { PATH: pathWithout, [TOXIPROXY_ROOT_ENV]: emptyRoot });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const line = lineOf(run.stdout, 'toxiproxy-server');
    expect(line).toMatch(
      new RegExp(`^✗ toxiproxy-server\\s+not on PATH nor in ${escapeRegExp(emptyRoot)}/\\.lab/bin`),
    );
    expect(line).toMatch(/ — fix: (npm run setup|install Go >= 1\.23 .*, then npm run setup)/);
    expect(run.stdout.trim().split('\n').at(-1)).toMatch(/^NOT READY: .*\(toxiproxy-server\)/);
  });

  it('prints its help, and refuses an unknown option with exit 2', async () => {
    const help = await runDoctor(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npm run doctor [-- options]');
    const wrong = await runDoctor(['--bogus']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('unknown option --bogus. See npm run doctor -- --help.');
  });
});
