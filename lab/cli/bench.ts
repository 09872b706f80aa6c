/**
 * `npm run bench`: how much each deployment can take when nothing fails. A closed-model throughput
 * benchmark with autocannon (the tool for this job: as many requests as the system will answer),
 * through the same edge proxies as the scenarios. Results go to stdout and reports/bench-<time>.json.
 *
 * It also times start-to-ready: the shared infrastructure, then each deployment until healthy.
 *
 * Options: --duration <s> per route and deployment (default 5), --connections <n> (default 16),
 * --runtime local|containers|auto (default local).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import autocannon from 'autocannon';
import { chooseRuntime } from '../runtime/choose-runtime.ts';
import { RUNTIME_CHOICES, type RuntimeChoice } from './scenario-args.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import { prepareRequest } from '../load/request-bodies.ts';
import { DEPLOYMENTS, ROUTES } from '../vocabulary/topology.ts';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`bench: --${name} needs a positive integer, e.g. --${name} ${fallback}`);
    process.exit(2);
  }
  return value;
}

function runtimeOption(): RuntimeChoice {
  const index = process.argv.indexOf('--runtime');
  if (index < 0) return 'local';
  const value = process.argv[index + 1] ?? '';
  if (!(RUNTIME_CHOICES as readonly string[]).includes(value)) {
    console.error(`bench: --runtime ${value} is not known; use local (the default), containers or auto`);
    process.exit(2);
  }
  return value as RuntimeChoice;
}

const log = (line: string): void => console.error(`bench: ${line}`);
const elapsedMs = (since: number): number => Math.round(performance.now() - since);
const durationS = option('duration', 5);
const connections = option('connections', 16);
const rows: Record<string, string | number>[] = [];
const startToReadyMs: Record<string, number> = {};
const runtime = await chooseRuntime(runtimeOption(), { log });
const runTag = `bench${Date.now().toString(36)}`;

{
  const labStarted = performance.now();
  await using lab = await runtime.start({ log });
  startToReadyMs.infrastructure = elapsedMs(labStarted);
  log(`${runtime.name}: infrastructure ready in ${startToReadyMs.infrastructure} ms`);
  for (const deployment of DEPLOYMENTS) {
    const deploymentStarted = performance.now();
    await using started = await lab.startDeployment(deployment);
    startToReadyMs[deployment] = elapsedMs(deploymentStarted);
    log(`${runtime.name}: ${deployment} healthy in ${startToReadyMs[deployment]} ms`);
    for (const route of ROUTES) {
      let sequence = 0;
      const result = await autocannon({
        url: started.routeUrl(route),
        connections,
        duration: durationS,
        requests: [
          {
            method: 'POST',
            // Every request unique: new emails, new idempotency keys, as in the scenarios.
            setupRequest: (request) => {
              const prepared = prepareRequest(route, `${runTag}-${deployment}`, sequence++);
              return { ...request, method: 'POST', headers: prepared.headers, body: prepared.body };
            },
          },
        ],
      });
      const row = {
        deployment,
        route,
        requestsPerSecond: Math.round(result.requests.average),
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors,
      };
      rows.push(row);
      console.error(`bench: ${deployment} ${route}: ${row.requestsPerSecond} req/s, p99 ${row.p99Ms} ms`);
    }
  }
}

console.table(rows);
console.log(`Start-to-ready on ${runtime.name} (ms):`, startToReadyMs);
const reportsDir = path.join(PROJECT_ROOT, 'reports');
await mkdir(reportsDir, { recursive: true });
const file = path.join(reportsDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await writeFile(
  file,
  `${JSON.stringify({ runtime: runtime.name, durationS, connections, startToReadyMs, rows }, null, 2)}\n`,
);
console.log(`Saved: ${file}`);
