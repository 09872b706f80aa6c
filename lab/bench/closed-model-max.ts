import autocannon from 'autocannon';
import { prepareRequest } from '../load/request-bodies.ts';
import { watchCpu, type CpuShares } from './cpu-watch.ts';

export interface ClosedModelResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /** How busy the machine and this process were meanwhile. */
  cpu: CpuShares;
}

/**
 * The closed-model maximum of an endpoint: autocannon with `connections` connections, each sending its
 * next request as soon as the last one is answered, for `durationS`. The bodies are the generator's own
 * (`pay` route: unique idempotency keys), so both tools send the same requests.
 *
 * @example
 *   const { requestsPerSecond } = await closedModelMax('http://127.0.0.1:8080/', { connections: 16, durationS: 3 });
 */
export async function closedModelMax(
  url: string,
  options: { connections: number; durationS: number; runTag: string },
): Promise<ClosedModelResult> {
  let sequence = 0;
  const cpu = watchCpu();
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.durationS,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const prepared = prepareRequest('pay', options.runTag, sequence++);
          return { ...request, method: 'POST', headers: prepared.headers, body: prepared.body };
        },
      },
    ],
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    cpu: cpu(),
  };
}
