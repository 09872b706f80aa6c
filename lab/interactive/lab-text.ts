/**
 * What `npm run lab` prints: the banner of `up`, `status`, and the answers of `fault` and `heal`. Pure,
 * so the wording is unit-tested.
 */
import { STEADY_LOAD } from '../../scenarios/_steady-load.ts';
import type { SecondTally } from '../live/run-events.ts';
import { ROUTE_TARGETS, ROUTES, type DeploymentName } from '../vocabulary/topology.ts';
import type { LabState } from './control-files.ts';
import type { FaultApplyAnswer, HealAnswer, LabStatus } from './control-protocol.ts';

/** `signup 4/s, pay 20/s, checkout 8/s`: the steady load `--load` runs. */
export const STEADY_LOAD_RATES = ROUTES.map((route) => `${route} ${STEADY_LOAD[route].ratePerSecond}/s`).join(
  ', ',
);

/** The line `up` prints once everything answers: tests and people wait for it. */
export const READY_PREFIX = 'ready:';

/** Under the metrics addresses: what they serve and who may read them. */
export const METRICS_NOTE =
  '(Prometheus text format: Prometheus or Grafana can scrape these; the JSON the lab reads is at /metrics.json)';

/** A fault worth trying first in each deployment. */
const FIRST_FAULT: Record<DeploymentName, string> = {
  split: 'npm run lab -- fault partition payment-api',
  monolith: 'npm run lab -- fault dbLatency monolith --ms 200',
  modular: 'npm run lab -- fault dbOutage payment',
};

/** `2025-01-31T12:00:01Z`: an ISO time to the second. */
function toSecond(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}

function duration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

/** The block of addresses `up` and `status` print: routes, metrics, Toxiproxy, DNS, live view, load. */
export function formatAddresses(state: LabState, loadRates: string): string[] {
  const urls = state.urls;
  const column = (label: string): string => `  ${label.padEnd(10)} `;
  const lines: string[] = [];
  if (urls) {
    for (const [index, route] of ROUTES.entries()) {
      const target = ROUTE_TARGETS[state.deployment][route];
      lines.push(
        `${column(index === 0 ? 'routes' : '')}${route.padEnd(9)} POST ${urls.routes[route]}  (${target.service} via ${target.link})`,
      );
    }
    for (const [index, [service, url]] of Object.entries(urls.metrics).entries())
      lines.push(`${column(index === 0 ? 'metrics' : '')}${service} ${url}`);
    if (Object.keys(urls.metrics).length > 0) lines.push(`${column('')}${METRICS_NOTE}`);
    lines.push(
      `${column('toxiproxy')}${
        urls.toxiproxyApi
          ? `${urls.toxiproxyApi} (its HTTP API; curl ${urls.toxiproxyApi}/proxies)`
          : 'API address not known on this runtime'
      }`,
    );
    lines.push(`${column('DNS')}${urls.dns ?? 'not known on this runtime'}`);
    lines.push(
      `${column('live view')}${urls.live ?? 'off (start with --live to follow the lab in a browser)'}`,
    );
  }
  lines.push(`${column('load')}${state.load ? loadRates : 'off (start with --load for the steady load)'}`);
  lines.push(`${column('control')}${state.socket}`);
  return lines;
}

/** Everything `up` prints once the lab is ready, ending with the ready line. */
export function formatUpBanner(state: LabState, loadRates: string): string {
  return [
    `splitlab lab: ${state.deployment} on the ${state.runtime} runtime (pid ${state.pid})`,
    ...formatAddresses(state, loadRates),
    `${READY_PREFIX} break it with ${FIRST_FAULT[state.deployment]}; see npm run lab -- status; heal with npm run lab -- heal; Ctrl-C stops the lab`,
  ].join('\n');
}

/** One second of load, in one line: `checkout 0 ok, 8 deadline (p50 5003 ms)`. */
export function formatSecond(second: SecondTally): string {
  const routes = second.routes.map((route) => {
    const failures = Object.entries(route.failures)
      .sort(([, a], [, b]) => b - a)
      .map(([cause, count]) => `, ${count} ${cause}`)
      .join('');
    const latency = route.latencyMs ? ` (p50 ${Math.round(route.latencyMs.p50)} ms)` : '';
    return `${route.route} ${route.ok} ok${failures}${latency}`;
  });
  return `last second (t=${second.t} s): ${routes.join('; ')}`;
}

/** What `npm run lab -- status` prints. */
export function formatStatus(status: LabStatus, loadRates: string): string {
  const { state } = status;
  const lines = [
    `splitlab lab: ${state.deployment} on the ${state.runtime} runtime (pid ${state.pid}), ${state.status}, ` +
      `up for ${duration(status.uptimeS)} since ${toSecond(state.startedAt)}`,
    ...formatAddresses(state, loadRates),
  ];
  if (status.failed) lines.push(`FAILED: ${status.failed}`);
  if (status.faults.length === 0) lines.push('faults: none in effect');
  else {
    lines.push(`faults in effect (${status.faults.length}, the newest last):`);
    for (const fault of status.faults) {
      lines.push(
        `  ${fault.id}  ${fault.fault.kind} ${fault.target}  since ${toSecond(fault.appliedAt)} (t=${fault.atS} s): ${fault.description}`,
      );
    }
  }
  if (status.lastSecond) lines.push(formatSecond(status.lastSecond));
  return lines.join('\n');
}

export function formatApplied(answer: FaultApplyAnswer): string {
  const { applied } = answer;
  return [
    `${applied.id} in effect (read back after ${answer.observedAfterMs} ms): ${applied.description}`,
    ...applied.evidence.map((line) => `  observed: ${line}`),
    `heal it with npm run lab -- heal ${applied.fault.kind} ${applied.target}`,
  ].join('\n');
}

export function formatHealed(answer: HealAnswer): string {
  if (answer.healed.length === 0) return 'no fault was in effect; nothing to heal';
  return answer.healed
    .flatMap((healed) => [
      `${healed.id} ${healed.observed ? 'healed' : 'undone but NOT observed gone'}: ${healed.description}`,
      ...healed.evidence.map((line) => `  ${healed.observed ? 'observed gone' : 'last read'}: ${line}`),
    ])
    .join('\n');
}
