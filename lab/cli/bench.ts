/**
 * `npm run bench`, in three parts (`--only` picks some):
 *
 * - deployments: how much each deployment can take when nothing fails. A closed-model throughput
 *   benchmark with autocannon (the tool for this job: as many requests as the system will answer),
 *   through the same edge proxies as the scenarios, and start-to-ready times: the shared
 *   infrastructure, then each deployment until healthy.
 * - tracing: what tracing costs: pay and checkout on each deployment with every request traced (as in the
 *   scenarios: each carries its own sampled traceparent, spans go to the lab's collector) and with the
 *   services' tracing off, same autocannon settings.
 * - generator: the open-model generator's own capacity, the highest rate it sustains on one route
 *   against a trivial endpoint (in a child process) with schedule lag p99 under the load-health
 *   threshold, next to autocannon's closed-model maximum on the same endpoint, and their ratio.
 * - hop: what one Toxiproxy hop costs on that endpoint: p50 latency and throughput, direct vs proxied.
 *
 * Results go to stdout and reports/bench-<time>.json. Options: see `npm run bench -- --help`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
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
import { newTraceParent } from '../load/drive-load.ts';
import { prepareRequest } from '../load/request-bodies.ts';
import { DEPLOYMENTS, ROUTES, type RouteName } from '../vocabulary/topology.ts';
import { DEFAULTS } from '../defaults.ts';
import { closedModelMax, type ClosedModelResult } from '../bench/closed-model-max.ts';
import { watchCpu, type CpuShares } from '../bench/cpu-watch.ts';
import { highestPassingRate, probeOpenModelRate, type RateProbe } from '../bench/generator-capacity.ts';
import { measureToxiproxyHop, type HopCost } from '../bench/toxiproxy-hop.ts';
import { startTrivialEndpoint } from '../bench/trivial-endpoint.ts';

const BENCH_PARTS = ['deployments', 'tracing', 'generator', 'hop'] as const;
type BenchPart = (typeof BENCH_PARTS)[number];
/** Seconds the generator is measured at each rate of its search, after a warm-up (about 8 steps in 25 s). */
const GENERATOR_STEP_S = 2;
const GENERATOR_WARM_UP_S = 0.5;

/** Every flag of `npm run bench`, once: `parseArgs` reads this table and `--help` lists it. */
const BENCH_FLAGS = {
  help: { type: 'boolean', short: 'h', usage: '--help', description: ['this text'] },
  duration: {
    type: 'string',
    usage: '--duration <s>',
    description: ['seconds of each autocannon run (default: 5)'],
  },
  connections: {
    type: 'string',
    usage: '--connections <n>',
    description: ['connections kept open, each sending its next request when answered (default: 16)'],
  },
  only: {
    type: 'string',
    usage: '--only <parts>',
    description: [
      `which parts to run, comma-separated (default: all): ${BENCH_PARTS.join(', ')}`,
      'deployments: start-to-ready and throughput of each deployment and route (--runtime)',
      'tracing: throughput and p50 of pay and checkout with the services tracing every request, and not',
      "generator: the open-model generator's sustained rate vs autocannon's maximum",
      'hop: one Toxiproxy hop, direct vs proxied (p50 latency, throughput)',
    ],
  },
  runtime: RUNTIME_FLAG,
} as const satisfies Record<string, CliFlag>;

const BENCH_USAGE = `bench: the throughput of each deployment and route and start-to-ready times; the load generator's
own capacity against a closed-model tool; what one Toxiproxy hop costs.

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

function benchParts(text: string | undefined): Set<BenchPart> {
  if (text === undefined) return new Set(BENCH_PARTS);
  const parts = text.split(',').map((part) => part.trim());
  for (const part of parts) {
    if (!(BENCH_PARTS as readonly string[]).includes(part))
      throw new LabError('USAGE', `--only: "${part}" is not a part; parts: ${BENCH_PARTS.join(', ')}`);
  }
  return new Set(parts as BenchPart[]);
}

/** The flags, checked; a mistake prints what is wrong and exits 2. */
function readFlags(): {
  durationS: number;
  connections: number;
  runtime: RuntimeChoice;
  parts: Set<BenchPart>;
} {
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
      parts: benchParts(values.only),
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
const perSecond = (value: number): string => `${value.toLocaleString('en-US')} req/s`;
const busy = (cpu: CpuShares): string =>
  `${Math.round(cpu.machineBusy * 100)} % busy (this process ${Math.round(cpu.thisProcess * 100)} %)`;
const { durationS, connections, runtime: runtimeChoice, parts } = readFlags();
const runTag = `bench${Date.now().toString(36)}`;

/** Part "deployments": start-to-ready and closed-model throughput of each deployment and route. */
async function benchDeployments(): Promise<{
  runtime: string;
  startToReadyMs: Record<string, number>;
  rows: Record<string, string | number>[];
}> {
  const rows: Record<string, string | number>[] = [];
  const startToReadyMs: Record<string, number> = {};
  const runtime = await chooseRuntime(runtimeChoice, { log });
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
      // Every request unique: new emails, new idempotency keys, as in the scenarios.
      const result = await closedModelRoute(started.routeUrl(route), route, `${runTag}-${deployment}`, false);
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
      log(`${deployment} ${route}: ${row.requestsPerSecond} req/s, p99 ${row.p99Ms} ms`);
    }
  }
  return { runtime: runtime.name, startToReadyMs, rows };
}

/** One autocannon run of a route, every request unique and, when `traced`, carrying its own traceparent. */
async function closedModelRoute(
  url: string,
  route: RouteName,
  tag: string,
  traced: boolean,
): Promise<autocannon.Result> {
  let sequence = 0;
  return autocannon({
    url,
    connections,
    duration: durationS,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const prepared = prepareRequest(route, tag, sequence++);
          const headers = traced
            ? { ...prepared.headers, traceparent: newTraceParent().header }
            : prepared.headers;
          return { ...request, method: 'POST', headers, body: prepared.body };
        },
      },
    ],
  });
}

/** Part "tracing": pay and checkout of each deployment, traced as in the scenarios and untraced. */
async function benchTracing(): Promise<{ runtime: string; rows: Record<string, string | number>[] }> {
  const rows: Record<string, string | number>[] = [];
  const runtime = await chooseRuntime(runtimeChoice, { log });
  await using lab = await runtime.start({ log });
  for (const deployment of DEPLOYMENTS) {
    for (const tracing of [false, true]) {
      await using started = await lab.startDeployment(deployment, { tracing });
      for (const route of ['pay', 'checkout'] as const) {
        const result = await closedModelRoute(
          started.routeUrl(route),
          route,
          `${runTag}-t${tracing ? 1 : 0}-${deployment}`,
          tracing,
        );
        const row = {
          deployment,
          route,
          tracing: tracing ? 'on' : 'off',
          requestsPerSecond: Math.round(result.requests.average),
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          non2xx: result.non2xx,
        };
        rows.push(row);
        log(
          `${deployment} ${route} tracing ${row.tracing}: ${row.requestsPerSecond} req/s, p50 ${row.p50Ms} ms`,
        );
      }
    }
  }
  const spans = lab.traces.summary().spansReceived;
  log(`the lab's collector received ${spans.toLocaleString('en-US')} spans`);
  return { runtime: runtime.name, rows };
}

/** "pay on split: +4.1 % throughput, p50 +0.2 ms" from the off and on rows of one deployment and route. */
function tracingCost(rows: readonly Record<string, string | number>[]): string[] {
  return rows
    .filter((row) => row.tracing === 'on')
    .map((on) => {
      const off = rows.find(
        (row) => row.tracing === 'off' && row.deployment === on.deployment && row.route === on.route,
      );
      if (!off) return `  ${on.route} on ${on.deployment}: no untraced run`;
      const throughput = (Number(on.requestsPerSecond) / Number(off.requestsPerSecond) - 1) * 100;
      const p50 = Number(on.p50Ms) - Number(off.p50Ms);
      return (
        `  ${on.route} on ${on.deployment}: ${perSecond(Number(off.requestsPerSecond))} untraced, ` +
        `${perSecond(Number(on.requestsPerSecond))} traced (${throughput >= 0 ? '+' : ''}${throughput.toFixed(1)} %); ` +
        `p50 ${off.p50Ms} -> ${on.p50Ms} ms (${p50 >= 0 ? '+' : ''}${p50.toFixed(2)} ms)`
      );
    });
}

interface GeneratorCapacity {
  lagThresholdMs: number;
  stepS: number;
  warmUpS: number;
  sustained: RateProbe | null;
  steps: RateProbe[];
  closedModel: ClosedModelResult;
  /** Sustained open-model rate / closed-model maximum. */
  ratio: number | null;
}

/** Part "generator": the highest open-model rate with lag p99 under the threshold vs autocannon's maximum. */
async function benchGenerator(url: string, closedModel: ClosedModelResult): Promise<GeneratorCapacity> {
  // A first second at a low rate compiles undici and opens connections (a cold second's lag p99 was
  // 7-17 ms here, a warm one's 1.5-7 ms), so the search starts warm.
  await probeOpenModelRate(url, 500, { durationS: 1, warmUpS: 0, runTag: `${runTag}-warm` });
  let step = 0;
  const search = await highestPassingRate(
    async (rate) => {
      const probe = await probeOpenModelRate(url, rate, {
        durationS: GENERATOR_STEP_S,
        warmUpS: GENERATOR_WARM_UP_S,
        runTag: `${runTag}-g${step++}`,
      });
      log(
        `generator at ${perSecond(rate)}: lag p50 ${probe.scheduleLagMs.p50} ms, p99 ${probe.scheduleLagMs.p99} ms, ` +
          `${probe.notOk} of ${probe.due} not ok, machine ${busy(probe.cpu)}: ${probe.passed ? 'sustained' : 'not sustained'}`,
      );
      return probe;
    },
    { startRate: 1000 },
  );
  const rate = search.highest?.ratePerSecond;
  return {
    lagThresholdMs: DEFAULTS.benchSustainedLagP99Ms,
    stepS: GENERATOR_STEP_S,
    warmUpS: GENERATOR_WARM_UP_S,
    sustained: search.highest,
    steps: search.steps,
    closedModel,
    ratio:
      rate && closedModel.requestsPerSecond
        ? Math.round((rate / closedModel.requestsPerSecond) * 100) / 100
        : null,
  };
}

const results: Record<string, unknown> = { durationS, connections };
const printed: string[] = [];
if (parts.has('deployments')) {
  const deployments = await benchDeployments();
  Object.assign(results, deployments);
  console.table(deployments.rows);
  console.log(`Start-to-ready on ${deployments.runtime} (ms):`, deployments.startToReadyMs);
}
if (parts.has('tracing')) {
  const tracing = await benchTracing();
  results.tracing = tracing;
  console.table(tracing.rows);
  printed.push(
    `What tracing costs on ${tracing.runtime} (autocannon, ${connections} connections, ${durationS} s per run; traced = every request sampled, as in the scenarios):`,
    ...tracingCost(tracing.rows),
  );
}
if (parts.has('generator') || parts.has('hop')) {
  // What else the machine is doing decides these figures: say it before measuring anything.
  const idle = watchCpu();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const before = idle().machineBusy;
  results.machineBusyBefore = before;
  log(`the machine was ${Math.round(before * 100)} % busy in the second before the bench`);
  if (before > DEFAULTS.health.otherCpuShare) {
    printed.push(
      `Warning: the machine was ${Math.round(before * 100)} % busy before the bench started (${os.cpus().length} cores): ` +
        'the figures below are what was left of it, not the capacity of the generator or of Toxiproxy.',
    );
  }
  await using endpoint = await startTrivialEndpoint();
  log(`trivial endpoint: ${endpoint.describe} at ${endpoint.url}`);
  const closedModel = await closedModelMax(endpoint.url, {
    connections,
    durationS,
    runTag: `${runTag}-closed`,
  });
  log(
    `autocannon on the trivial endpoint: ${perSecond(closedModel.requestsPerSecond)}, p50 ${closedModel.p50Ms} ms`,
  );
  results.endpoint = endpoint.describe;
  printed.push(`Trivial endpoint: ${endpoint.describe}; generator and autocannon in this process.`);
  if (parts.has('generator')) {
    const generator = await benchGenerator(endpoint.url, closedModel);
    results.generator = generator;
    const sustained = generator.sustained;
    printed.push(
      `Generator, open model, one route, ${generator.stepS} s per step after ${generator.warmUpS} s of warm-up, ` +
        `sustained = schedule lag p99 < ${generator.lagThresholdMs} ms and all 2xx:`,
      sustained
        ? `  sustained ${perSecond(sustained.ratePerSecond)} (lag p50 ${sustained.scheduleLagMs.p50} ms, p99 ${sustained.scheduleLagMs.p99} ms; latency p99 ${sustained.latencyMs.p99} ms; machine ${busy(sustained.cpu)})`
        : `  sustained: none of ${generator.steps.map((step) => step.ratePerSecond).join(', ')} req/s`,
      `  autocannon, closed model, ${connections} connections, ${durationS} s: ${perSecond(closedModel.requestsPerSecond)} (p50 ${closedModel.p50Ms} ms, p99 ${closedModel.p99Ms} ms; machine ${busy(closedModel.cpu)})`,
      `  ratio open / closed: ${generator.ratio ?? 'n/a'}`,
    );
  }
  if (parts.has('hop')) {
    const hop: HopCost = await measureToxiproxyHop(endpoint.url, {
      connections,
      durationS,
      runTag,
      log,
    });
    results.hop = hop;
    const { direct, proxied } = hop.lightLoad;
    const added =
      direct.p50 !== null && proxied.p50 !== null ? Math.round((proxied.p50 - direct.p50) * 100) / 100 : null;
    const share =
      Math.round((hop.throughput.proxied.requestsPerSecond / hop.throughput.direct.requestsPerSecond) * 100) /
      100;
    printed.push(
      `One Toxiproxy hop (no toxics; ${hop.toxiproxy}):`,
      `  p50 at ${hop.lightLoad.ratePerSecond} req/s on each path at once, hand-off to answer: direct ${direct.p50} ms, proxied ${proxied.p50} ms (+${added} ms); p99 ${direct.p99} / ${proxied.p99} ms`,
      `  throughput (autocannon, ${connections} connections, ${durationS} s): direct ${perSecond(hop.throughput.direct.requestsPerSecond)}, proxied ${perSecond(hop.throughput.proxied.requestsPerSecond)} (${share}x; machine ${busy(hop.throughput.direct.cpu)} / ${busy(hop.throughput.proxied.cpu)})`,
    );
  }
}
for (const line of printed) console.log(line);

const reportsDir = path.join(PROJECT_ROOT, 'reports');
await mkdir(reportsDir, { recursive: true });
const file = path.join(reportsDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`Saved: ${file}`);
