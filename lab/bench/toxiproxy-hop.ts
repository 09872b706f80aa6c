import { createLink } from '../runtime/toxiproxy-links.ts';
import { locateToxiproxy } from '../runtime/local/toxiproxy-binary.ts';
import { startToxiproxyServer } from '../runtime/local/toxiproxy-server.ts';
import { driveLoad } from '../load/drive-load.ts';
import { summarizeLatency } from '../load/percentiles.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import type { LatencySummary } from '../results.ts';
import { closedModelMax, type ClosedModelResult } from './closed-model-max.ts';

export interface HopCost {
  /** The toxiproxy-server binary that was measured. */
  toxiproxy: string;
  /** Light open-model load on both paths at once; latency from hand-off to answer (send lag excluded). */
  lightLoad: { ratePerSecond: number; durationS: number; direct: LatencySummary; proxied: LatencySummary };
  /** The closed-model maximum on each path (autocannon, same connections and duration). */
  throughput: { direct: ClosedModelResult; proxied: ClosedModelResult };
}

/**
 * What one Toxiproxy hop without toxics costs: the same endpoint direct and through one proxy of the
 * local toxiproxy-server (started and stopped here, as the local runtime starts it). Latency is read
 * under light load with both paths driven at the same time, so both see the same machine; throughput
 * with autocannon, one path right after the other.
 *
 * @example
 *   const hop = await measureToxiproxyHop(endpoint.url, { connections: 16, durationS: 3, runTag: 'b1' });
 *   hop.lightLoad.proxied.p50 - hop.lightLoad.direct.p50 // ms one hop adds
 */
export async function measureToxiproxyHop(
  endpointUrl: string,
  options: {
    connections: number;
    durationS: number;
    runTag: string;
    log?: (line: string) => void;
  },
): Promise<HopCost> {
  const binary = await locateToxiproxy(PROJECT_ROOT, {
    install: true,
    ...(options.log ? { log: options.log } : {}),
  });
  await using toxiproxy = await startToxiproxyServer(binary);
  const upstream = new URL(endpointUrl).host;
  const link = await createLink(toxiproxy.client, 'bench-hop', '127.0.0.1:0', upstream);
  const proxiedUrl = `http://127.0.0.1:${link.port}/`;

  const lightLoad = { ratePerSecond: 200, durationS: 3 };
  const outcomes = await driveLoad({
    routes: [
      { route: 'pay', url: endpointUrl, ratePerSecond: lightLoad.ratePerSecond },
      { route: 'pay', url: proxiedUrl, ratePerSecond: lightLoad.ratePerSecond },
    ],
    durationS: lightLoad.durationS,
    timeoutMs: 2000,
    maxInFlightPerRoute: 500,
    runTag: `${options.runTag}-hop`,
  }).finished;
  // Leave out the first half second: connections being opened and code being compiled.
  const sendToAnswer = (stream: number): LatencySummary =>
    summarizeLatency(
      outcomes
        .filter((outcome) => outcome.stream === stream && outcome.ok && outcome.dueAtS >= 0.5)
        .map((outcome) => outcome.latencyMs - outcome.sendLagMs),
    );

  const closed = { connections: options.connections, durationS: options.durationS };
  // Back to back, so both see the same machine.
  const direct = await closedModelMax(endpointUrl, { ...closed, runTag: `${options.runTag}-direct` });
  const proxied = await closedModelMax(proxiedUrl, { ...closed, runTag: `${options.runTag}-proxied` });
  return {
    toxiproxy: binary,
    lightLoad: { ...lightLoad, direct: sendToAnswer(0), proxied: sendToAnswer(1) },
    throughput: { direct, proxied },
  };
}
