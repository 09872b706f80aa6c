import { containersRuntime } from '../../../lab/runtime/containers/containers-runtime.ts';
import { localRuntime } from '../../../lab/runtime/local/local-runtime.ts';
import type { Runtime, StartedLab } from '../../../lab/runtime/runtime.ts';

/** Services hash passwords at a tiny scrypt cost in tests: the tests measure the network, not the KDF. */
export const TEST_SERVICE_ENV = { SCRYPT_N: '1024' };

/**
 * The runtime the integration suite runs on: vitest.config.ts runs the same files once per runtime,
 * with LAB_RUNTIME set to `local` or `containers`.
 */
export const TEST_RUNTIME: 'local' | 'containers' =
  process.env.LAB_RUNTIME === 'containers' ? 'containers' : 'local';

/** The test runtime with these service settings (the cheap scrypt cost unless told otherwise). */
export function testRuntime(serviceEnv: Record<string, string> = TEST_SERVICE_ENV): Runtime {
  return TEST_RUNTIME === 'containers' ? containersRuntime({ serviceEnv }) : localRuntime({ serviceEnv });
}

export async function startTestLab(serviceEnv: Record<string, string> = {}): Promise<StartedLab> {
  return await testRuntime({ ...TEST_SERVICE_ENV, ...serviceEnv }).start({ log: () => undefined });
}

export interface TimedResponse {
  status: number | null;
  body: Record<string, unknown>;
  elapsedMs: number;
  errorCode?: string;
}

let sequence = 0;

/** POSTs JSON and times it; network errors come back as `errorCode`, never thrown. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<TimedResponse> {
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { raw: text };
    }
    return { status: response.status, body: parsed, elapsedMs: performance.now() - started };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return {
      status: null,
      body: {},
      elapsedMs: performance.now() - started,
      errorCode: cause?.code ?? String(error),
    };
  }
}

export function checkoutBody(): { body: Record<string, unknown>; headers: Record<string, string> } {
  sequence += 1;
  const tag = `${process.pid}-${Date.now()}-${sequence}`;
  return {
    body: { email: `test-${tag}@lab.test`, password: 'correct horse battery', amountCents: 1200 },
    headers: { 'idempotency-key': `test-checkout-${tag}` },
  };
}

export function payBody(): { body: Record<string, unknown>; headers: Record<string, string> } {
  sequence += 1;
  return {
    body: { userId: crypto.randomUUID(), amountCents: 700 },
    headers: { 'idempotency-key': `test-pay-${process.pid}-${Date.now()}-${sequence}` },
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
