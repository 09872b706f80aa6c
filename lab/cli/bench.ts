/**
 * `npm run bench`: how much each deployment can take when nothing fails. A closed-model throughput
 * benchmark with autocannon (the tool for this job: as many requests as the system will answer),
 * through the same edge proxies as the scenarios. Results go to stdout and reports/bench-<time>.json.
 *
 * It also times start-to-ready: the shared infrastructure, then each deployment until healthy.
 *
 * Options: see `npm run bench -- --help`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { chooseRuntime } from '../runtime/choose-runtime.ts';
import { EXIT_USAGE_OR_SETUP, LabError, isLabError } from '../errors.ts';
import {
  RUNTIME_FLAG,
  formatFlags,
  parseRuntimeChoice,
  toUsageError,
  type CliFlag,
  type RuntimeChoice,
} from './scenario-args.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import { prepareRequest } from '../load/request-bodies.ts';
import { DEPLOYMENTS, ROUTES } from '../vocabulary/topology.ts';

/** Every flag of `npm run bench`, once: `parseArgs` reads this table and `--help` lists it. */
const BENCH_FLAGS = {
  help: { type: 'boolean', short: 'h', usage: '--help', description: ['this text'] },
  duration: {
    type: 'string',
    usage: '--duration <s>',
    description: ['seconds per route and deployment (default: 5)'],
  },
  connections: {
    type: 'string',
    usage: '--connections <n>',
    description: ['connections kept open, each sending its next request when answered (default: 16)'],
  },
  runtime: RUNTIME_FLAG,
} as const satisfies Record<string, CliFlag>;

const BENCH_USAGE = `bench: the closed-model throughput of each deployment and route, and start-to-ready times.

Usage: npm run bench -- [options]

Options:
${formatFlags(BENCH_FLAGS)}`;

function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new LabError('USAGE', `--${name} needs a positive integer, e.g. --${name} ${fallback}`);
  return value;
}

/** The flags, checked; a mistake prints what is wrong and exits 2. */
function readFlags(): { durationS: number; connections: number; runtime: RuntimeChoice } {
  try {
    const { values } = parseArgs({ args: process.argv.slice(2), options: BENCH_FLAGS, strict: true });
    if (values.help) {
      console.log(BENCH_USAGE);
      process.exit(0);
    }
    return {
      durationS: positiveInteger('duration', values.duration, 5),
      connections: positiveInteger('connections', values.connections, 16),
      runtime: parseRuntimeChoice(values.runtime),
    };
  } catch (caught) {
    const error = toUsageError(caught, 'npm run bench');
    if (!isLabError(error)) throw error;
    console.error(`bench: ${error.message}`);
    process.exit(EXIT_USAGE_OR_SETUP);
  }
}

const log = (line: string): void => console.error(`bench: ${line}`);
const elapsedMs = (since: number): number => Math.round(performance.now() - since);
const { durationS, connections, runtime: runtimeChoice } = readFlags();
const rows: Record<string, string | number>[] = [];
const startToReadyMs: Record<string, number> = {};
const runtime = await chooseRuntime(runtimeChoice, { log });
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
