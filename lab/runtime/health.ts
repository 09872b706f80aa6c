import { LabError } from '../errors.ts';

/**
 * Polls each `/healthz` until it answers 200. The error names every endpoint that did not come up.
 *
 * @example
 *   await waitForHealthy([{ name: 'monolith', url: 'http://127.0.0.1:4000/healthz' }], 10_000);
 */
export async function waitForHealthy(
  endpoints: { name: string; url: string }[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const lastProblem = new Map<string, string>();
  const pending = new Set(endpoints);
  while (pending.size > 0 && Date.now() < deadline) {
    for (const endpoint of [...pending]) {
      try {
        const response = await fetch(endpoint.url, { signal: AbortSignal.timeout(1000) });
        await response.body?.cancel();
        if (response.ok) pending.delete(endpoint);
        else lastProblem.set(endpoint.name, `HTTP ${response.status}`);
      } catch (error) {
        lastProblem.set(
          endpoint.name,
          error instanceof Error
            ? error.cause instanceof Error
              ? error.cause.message
              : error.message
            : String(error),
        );
      }
    }
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (pending.size > 0) {
    const names = [...pending].map(
      (endpoint) => `${endpoint.name} at ${endpoint.url} (${lastProblem.get(endpoint.name) ?? 'no answer'})`,
    );
    throw new LabError('STARTUP_TIMEOUT', `not healthy after ${timeoutMs} ms: ${names.join('; ')}`);
  }
}
