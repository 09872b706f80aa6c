import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type StartedPostgres } from '../../lab/runtime/local/embedded-postgres.ts';
import { isPortListening } from '../../lab/runtime/ports.ts';

// The lab starts services as `node services/<name>.ts` and waits for one JSON line on stdout. These tests
// hold the entry points to that contract: the line, a clean exit 0 on SIGTERM, exit 1 on bad config.

const ROOT = path.resolve(import.meta.dirname, '../..');
const stack = new AsyncDisposableStack();
let postgres: StartedPostgres;

interface RunningProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

function run(script: string, env: Record<string, string>): RunningProcess {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

async function listeningLine(
  process: RunningProcess,
): Promise<{ event: string; service: string; port: number }> {
  await expect
    .poll(() => process.stdout().includes('\n') || process.child.exitCode !== null, { timeout: 20_000 })
    .toBe(true);
  const [line] = process.stdout().split('\n');
  if (!line) throw new Error(`no listening line; stderr: ${process.stderr()}`);
  return JSON.parse(line) as { event: string; service: string; port: number };
}

beforeAll(async () => {
  postgres = stack.use(await startEmbeddedPostgres(['monolith', 'signup', 'payment']));
});

afterAll(async () => {
  await stack.disposeAsync();
  expect(await isPortListening(postgres.port)).toBe(false);
});

describe.each([
  { script: 'services/monolith.ts', service: 'monolith', database: 'monolith' },
  { script: 'services/payment-service.ts', service: 'payment-service', database: 'payment' },
  { script: 'services/signup-service.ts', service: 'signup-service', database: 'signup' },
])('node $script', ({ script, service, database }) => {
  it('prints exactly one listening line, serves, and exits 0 on SIGTERM', async () => {
    await using child = run(script, {
      DATABASE_URL: postgres.urlFor(database),
      SCRYPT_N: '1024',
      PAYMENT_URL: 'http://127.0.0.1:9',
    });
    const line = await listeningLine(child);
    expect(line).toEqual({ event: 'listening', service, port: expect.any(Number) });
    const health = await fetch(`http://127.0.0.1:${line.port}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok', version: 'v1' });

    child.child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(child.stdout().trim().split('\n')).toHaveLength(1);
    expect(await isPortListening(line.port)).toBe(false);
    for (const logLine of child.stderr().trim().split('\n').filter(Boolean)) {
      expect(() => JSON.parse(logLine)).not.toThrow();
    }
  });

  it('exits 1 with a JSON message when DATABASE_URL is missing', async () => {
    await using child = run(script, { PAYMENT_URL: 'http://127.0.0.1:9' });
    expect(await child.exited).toBe(1);
    expect(child.stdout()).toBe('');
    expect(JSON.parse(child.stderr().trim())).toMatchObject({
      service,
      event: 'startup_failed',
      error: expect.stringContaining('DATABASE_URL is required'),
    });
  });
});

describe('SERVICE_NAME and PORT', () => {
  it('are honoured by the listening line and /metrics', async () => {
    await using child = run('services/payment-service.ts', {
      DATABASE_URL: postgres.urlFor('payment'),
      SERVICE_NAME: 'payment-blue',
      PORT: '0',
    });
    const line = await listeningLine(child);
    expect(line.service).toBe('payment-blue');
    const metrics = (await (await fetch(`http://127.0.0.1:${line.port}/metrics.json`)).json()) as {
      service: string;
    };
    expect(metrics.service).toBe('payment-blue');
    child.child.kill('SIGINT');
    expect(await child.exited).toBe(0);
  });
});
