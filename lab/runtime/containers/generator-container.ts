import { GenericContainer, Wait, type ContainerRuntimeClient, type StartedNetwork } from 'testcontainers';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { LOAD_GENERATOR_PORT } from '../../agent/agent-ports.ts';
import type { InNetworkGenerator } from '../runtime.ts';
import type { ClosedGeneratorRun, GeneratorLine, OpenGeneratorRun } from '../../agent/load-main.ts';
import { LabError } from '../../errors.ts';
import {
  emptyClosedSummary,
  type ClosedLoadRun,
  type ClosedStreamSummary,
  type DriveClosedLoadOptions,
} from '../../load/closed-load.ts';
import type { DriveLoadOptions, LoadRun } from '../../load/drive-load.ts';
import type { RequestOutcome } from '../../load/outcome.ts';
import type { RouteName } from '../../vocabulary/topology.ts';
import { publishedPortsAddress } from './docker.ts';
import type { RunIdentity } from './labels.ts';
import { publishedToLab } from './published-to-lab.ts';

const LabFacingContainer = publishedToLab(GenericContainer);

/**
 * The generator container's quota. Measured here (2 cores, pay against a trivial endpoint on the lab
 * network): the open-model generator used 0.2 CPU at 200/s, 0.4-0.5 at 1,000/s and 0.55 at 1,900/s, the
 * most it sustained, the same with 2 CPUs; autocannon's closed model at its maximum used 0.95. One CPU
 * is headroom for any open load and bounds a closed stream's flood, which without a quota would take the
 * services' cores on a loaded engine and blur their own quotas.
 */
export const GENERATOR_QUOTA = { cpu: 1, memoryMiB: 512 } as const;

/** Silence on a run's stream longer than this means the generator is gone: it writes every 100 ms. */
const HEARTBEAT_TIMEOUT_MS = 5_000;
/** After the lab asks a run to stop, how long its last outcomes (the cut requests) may take to arrive. */
const STOP_GRACE_MS = 3_000;
/** Round trips to the generator's clock per measurement: the shortest one gives the alignment. */
const CLOCK_PINGS = 5;
/**
 * The offset of the two clocks is measured once at start and again this often in the background, so a
 * run starts at once instead of after the round trips (measured: 6-16 ms, all of it late requests at
 * t = 0). Measured here, the offsets of one test run's five runs agreed within 0.3 ms (one kernel's
 * clock); for an engine on another machine the refresh bounds the drift of two clocks between
 * measurements (at tens of ppm, under 1 ms in 20 s; a run already going keeps its t = 0).
 */
const CLOCK_REFRESH_MS = 20_000;
/** An offset older than this (the refresh failed) is measured again before a run. */
const CLOCK_STALE_MS = 60_000;
const CONTROL_TIMEOUT_MS = 5_000;

/** The load generator running in the lab's network, behind the same interfaces as the in-process one. */
/** The lab's load generator as a container on the lab network (see InNetworkGenerator). */
export interface GeneratorContainer extends InNetworkGenerator {
  containerId: string;
}

/**
 * Starts the load generator (lab/agent/load-main.ts) as a container on the lab's network and returns
 * its driver. The lab drives it through its port published on the engine's address; only the runs and
 * their outcomes cross that path, never the requests under test. Its stop is registered on `teardown`.
 *
 * @example
 *   const generator = await startGeneratorContainer({ client, image: images.agent.name, network, identity, startTimeoutMs, teardown });
 *   const run = generator.driveLoad({ routes: [{ route: 'pay', url: 'http://toxiproxy:8669/charge', ratePerSecond: 50 }], ... });
 */
export async function startGeneratorContainer(options: {
  client: ContainerRuntimeClient;
  image: string;
  network: StartedNetwork;
  identity: Pick<RunIdentity, 'labels' | 'networkName'>;
  startTimeoutMs: number;
  teardown: AsyncDisposableStack;
  quota?: { cpu: number; memoryMiB: number };
}): Promise<GeneratorContainer> {
  const { identity, teardown } = options;
  const quota = options.quota ?? GENERATOR_QUOTA;
  const name = `${identity.networkName}-generator`;
  let container;
  try {
    container = await new LabFacingContainer(options.image)
      .withName(name)
      .withCommand(['node', 'lab/agent/load-main.ts'])
      .withNetwork(options.network)
      .withNetworkAliases('lab-generator')
      .withLabels({ ...identity.labels, 'io.splitlab.agent': 'generator' })
      .withExposedPorts(LOAD_GENERATOR_PORT)
      .withResourcesQuota({ cpu: quota.cpu, memory: quota.memoryMiB / 1024 })
      .withWaitStrategy(Wait.forHttp('/healthz', LOAD_GENERATOR_PORT).withReadTimeout(100))
      .withStartupTimeout(options.startTimeoutMs)
      .start();
  } catch (error) {
    throw new LabError(
      'CONTAINER_START',
      `the lab's load generator container ${name} did not start: ${String(error)}. ` +
        'Check that `npm run images` built the agent image, or run without the in-network generator.',
      { cause: error },
    );
  }
  const started = container;
  teardown.defer(() => started.stop().then(() => undefined));
  // Registered after the stop, so it runs before it: a stream still open is cut, not waited for.
  const dispatcher = new Agent({ keepAliveTimeout: 10_000 });
  teardown.defer(() => dispatcher.destroy());
  const baseUrl = `http://${publishedPortsAddress()}:${started.getMappedPort(LOAD_GENERATOR_PORT)}`;
  let clock: { offsetMs: number; roundTripMs: number; measuredAtMs: number };
  try {
    clock = { ...(await measureClockOffset(baseUrl, dispatcher)), measuredAtMs: performance.now() };
  } catch (error) {
    throw new LabError(
      'CONTAINER_START',
      `the lab's load generator container ${name} started but the lab cannot reach it at ${baseUrl} ` +
        `(${errorText(error)}). Check that nothing between this machine and the engine blocks its published ports.`,
      { cause: error },
    );
  }
  const refresh = setInterval(() => {
    measureClockOffset(baseUrl, dispatcher)
      .then((offset) => (clock = { ...offset, measuredAtMs: performance.now() }))
      // A dead generator is found out by its runs, with a better message than a ping's.
      .catch(() => undefined);
  }, CLOCK_REFRESH_MS);
  refresh.unref();
  teardown.defer(() => clearInterval(refresh));
  const connection: GeneratorConnection = {
    baseUrl,
    name,
    dispatcher,
    clock: async () => {
      if (performance.now() - clock.measuredAtMs > CLOCK_STALE_MS) {
        clock = { ...(await measureClockOffset(baseUrl, dispatcher)), measuredAtMs: performance.now() };
      }
      return clock;
    },
    state: async () => {
      try {
        const info = await options.client.container.dockerode.getContainer(started.getId()).inspect();
        return describeContainerState(info.State);
      } catch {
        return 'the container is gone';
      }
    },
  };
  // One empty run before any timeline starts: cold, the first POST took 30 ms to be answered (parsing,
  // first calls), all of it lag of the first requests due; warm, 3-5 ms.
  await driveLoadThrough(connection, {
    routes: [],
    durationS: 0.01,
    timeoutMs: 1_000,
    maxInFlightPerRoute: 1,
    runTag: 'warm-up',
  }).finished;
  return {
    where: `in the lab's Docker network: container ${name} (${quota.cpu} CPU, ${quota.memoryMiB} MiB), next to the system under test`,
    containerId: started.getId(),
    driveLoad: (load) => driveLoadThrough(connection, load),
    driveClosedLoad: (load) => driveClosedLoadThrough(connection, load),
  };
}

/** How the lab talks to one generator container. */
interface GeneratorConnection {
  baseUrl: string;
  /** The container's name, for every error that blames it. */
  name: string;
  dispatcher: Agent;
  /** The generator's clock minus the lab's: the last measurement, or a new one when that is stale. */
  clock(): Promise<{ offsetMs: number; roundTripMs: number }>;
  /** The container's state in words, read from the engine when a stream broke. */
  state(): Promise<string>;
}

function driveLoadThrough(connection: GeneratorConnection, options: DriveLoadOptions): LoadRun {
  const startedAtMs = options.startedAtMs ?? performance.now();
  const keep = options.keepOutcomes ?? true;
  const outcomes: RequestOutcome[] = [];
  const inFlight = new Map<RouteName, number>();
  const body: Omit<OpenGeneratorRun, 'timelineZeroMs'> = {
    kind: 'open',
    routes: options.routes,
    durationS: options.durationS,
    timeoutMs: options.timeoutMs,
    maxInFlightPerRoute: options.maxInFlightPerRoute,
    runTag: options.runTag,
    ...(options.traceRequests !== undefined ? { traceRequests: options.traceRequests } : {}),
  };
  const finished = streamRun(connection, body, {
    startedAtMs,
    signal: options.signal,
    onOutcome: (outcome) => {
      if (keep) outcomes.push(outcome);
      options.onOutcome?.(outcome);
    },
    onInFlight: (counts) => {
      for (const [route, count] of Object.entries(counts)) inFlight.set(route as RouteName, count);
    },
  })
    .then(() => outcomes)
    .finally(() => inFlight.clear());
  return { inFlight: (route) => inFlight.get(route) ?? 0, finished };
}

function driveClosedLoadThrough(
  connection: GeneratorConnection,
  options: DriveClosedLoadOptions,
): ClosedLoadRun {
  const outcomes: RequestOutcome[] = [];
  const body: Omit<ClosedGeneratorRun, 'timelineZeroMs'> = {
    kind: 'closed',
    load: options.load,
    durationS: options.durationS,
    timeoutMs: options.timeoutMs,
    runTag: options.runTag,
    ...(options.traceRequests !== undefined ? { traceRequests: options.traceRequests } : {}),
    ...(options.maxErrorsPerSecond !== undefined ? { maxErrorsPerSecond: options.maxErrorsPerSecond } : {}),
    ...(options.pauseMs !== undefined ? { pauseMs: options.pauseMs } : {}),
  };
  const finished = streamRun(connection, body, {
    startedAtMs: options.startedAtMs,
    signal: options.signal,
    onOutcome: (outcome) => {
      outcomes.push(outcome);
      options.onOutcome?.(outcome);
    },
  }).then(({ summary }) => ({ outcomes, summary: summary ?? emptyClosedSummary(options) }));
  return { finished };
}

/**
 * One run on the generator: aligns the clocks, posts the run, hands each line to the caller and resolves
 * at the last one. A stream that breaks or falls silent rejects with DEPENDENCY_FAILED naming the
 * container; when the lab itself stops the run (`signal`), it resolves with what arrived instead, as the
 * in-process generator does.
 */
async function streamRun(
  connection: GeneratorConnection,
  run: Omit<OpenGeneratorRun, 'timelineZeroMs'> | Omit<ClosedGeneratorRun, 'timelineZeroMs'>,
  handlers: {
    startedAtMs: number;
    signal: AbortSignal | undefined;
    onOutcome(outcome: RequestOutcome): void;
    onInFlight?(counts: Partial<Record<RouteName, number>>): void;
  },
): Promise<{ summary?: ClosedStreamSummary }> {
  const { signal } = handlers;
  if (signal?.aborted) return {};
  const blame = async (what: string, error?: unknown): Promise<LabError> => {
    const atS = Math.round(performance.now() - handlers.startedAtMs) / 1000;
    return new LabError(
      'DEPENDENCY_FAILED',
      `the lab's load generator container ${connection.name} ${what} ${atS} s into the run ` +
        `(${error === undefined ? 'no error' : errorText(error)}; ${await connection.state()}): the lab cannot ` +
        'measure this run, and the system under test is not to blame. Run it again; if it recurs, watch ' +
        `\`docker stats ${connection.name}\` and \`docker logs ${connection.name}\` while it runs.`,
      error === undefined ? undefined : { cause: error },
    );
  };

  let clock: { offsetMs: number; roundTripMs: number };
  try {
    clock = await connection.clock();
  } catch (error) {
    throw await blame('did not answer', error);
  }
  const body: OpenGeneratorRun | ClosedGeneratorRun = {
    ...run,
    timelineZeroMs: generatorTimelineZero(handlers.startedAtMs, clock.offsetMs),
  };

  const cut = new AbortController();
  let runId: string | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    if (runId === undefined) return cut.abort();
    // Asked to stop, the generator cuts what is in flight and streams those outcomes before its last line.
    void request(`${connection.baseUrl}/runs/${runId}`, {
      method: 'DELETE',
      dispatcher: connection.dispatcher,
      signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
    })
      .then((response) => response.body.dump())
      .catch(() => cut.abort());
    graceTimer = setTimeout(() => cut.abort(), STOP_GRACE_MS);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  // Aborted while the clocks were compared: the listener above will not fire.
  if (signal?.aborted) return {};
  let last:
    { done: true; summary?: ClosedStreamSummary } | { error: { code: string; message: string } } | undefined;
  try {
    const response = await request(`${connection.baseUrl}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      dispatcher: connection.dispatcher,
      signal: cut.signal,
      headersTimeout: CONTROL_TIMEOUT_MS,
      // Undici's idle time between two chunks of the body: the generator writes every 100 ms.
      bodyTimeout: HEARTBEAT_TIMEOUT_MS,
    });
    if (response.statusCode !== 200) {
      const text = await response.body.text();
      throw new LabError(
        'DEPENDENCY_FAILED',
        `the lab's load generator container ${connection.name} refused the run with ${response.statusCode}: ${text}. ` +
          'The lab and its agent image disagree: rebuild it with `npm run images`.',
      );
    }
    const split = ndjsonSplitter();
    const decoder = new TextDecoder();
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      for (const text of split(decoder.decode(chunk, { stream: true }))) {
        const line = parseGeneratorLine(text);
        if ('run' in line) runId = line.run;
        else if ('inFlight' in line) handlers.onInFlight?.(line.inFlight);
        else if ('done' in line) last = line;
        else if ('error' in line) last = line;
        else handlers.onOutcome(line);
      }
    }
  } catch (error) {
    if (error instanceof LabError) throw error;
    if (signal?.aborted) return {};
    throw await blame('stopped streaming outcomes', error);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    clearTimeout(graceTimer);
  }
  if (last && 'error' in last) {
    // The generator's own check of the run (a schedule too large to keep exactly) is the user's to fix.
    if (last.error.code === 'USAGE') throw new LabError('USAGE', last.error.message);
    throw await blame('failed', new Error(`${last.error.code}: ${last.error.message}`));
  }
  if (!last) {
    if (signal?.aborted) return {};
    throw await blame('ended its stream early');
  }
  return last.summary ? { summary: last.summary } : {};
}

/** One round trip to the generator's clock: the lab's clock before and after, and the generator's. */
export interface ClockSample {
  sentAtMs: number;
  generatorNowMs: number;
  receivedAtMs: number;
}

/**
 * The generator's clock minus the lab's (both performance.now(), each since its own process started),
 * from the round trip that took least time: the generator read its clock somewhere inside that round
 * trip, so taking its middle is wrong by at most half of it, and by nothing when both directions take as
 * long. Pure, so it is unit-tested.
 *
 * @example
 *   clockOffsetOf([{ sentAtMs: 100, generatorNowMs: 5_001, receivedAtMs: 102 }]) // { offsetMs: 4_900, roundTripMs: 2 }
 */
export function clockOffsetOf(samples: readonly ClockSample[]): { offsetMs: number; roundTripMs: number } {
  const best = samples.reduce<ClockSample | undefined>(
    (shortest, sample) =>
      !shortest || sample.receivedAtMs - sample.sentAtMs < shortest.receivedAtMs - shortest.sentAtMs
        ? sample
        : shortest,
    undefined,
  );
  if (!best) throw new Error('bug: no clock sample');
  return {
    offsetMs: best.generatorNowMs - (best.sentAtMs + best.receivedAtMs) / 2,
    roundTripMs: best.receivedAtMs - best.sentAtMs,
  };
}

/**
 * The lab's t = 0 on the generator's clock. Every time the generator reports (due times, windows, send
 * times) is then on the lab's own timeline, computed there on the exact grid of due-times.ts: nothing is
 * shifted on the way back, so a request due exactly at a phase boundary stays in its phase. The error of
 * the alignment is that of the offset: at most half the shortest round trip of `clockOffsetOf` (measured
 * 1.2-2.3 ms to a local engine through docker-proxy, so 0.6-1.2 ms at worst; half the WAN's round trip to
 * a remote one at worst, and much less when both directions take as long). A
 * fault the lab applies at a phase boundary may be that much early or late for the generator's requests.
 *
 * @example
 *   generatorTimelineZero(1_000, 4_900) // 5_900
 */
export function generatorTimelineZero(labStartedAtMs: number, offsetMs: number): number {
  return labStartedAtMs + offsetMs;
}

async function measureClockOffset(
  baseUrl: string,
  dispatcher: Agent,
): Promise<{ offsetMs: number; roundTripMs: number }> {
  const samples: ClockSample[] = [];
  for (let ping = 0; ping < CLOCK_PINGS; ping += 1) {
    const sentAtMs = performance.now();
    const response = await request(`${baseUrl}/clock`, {
      dispatcher,
      signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
    });
    const { nowMs } = clockSchema.parse(await response.body.json());
    samples.push({ sentAtMs, generatorNowMs: nowMs, receivedAtMs: performance.now() });
  }
  return clockOffsetOf(samples);
}

const clockSchema = z.object({ nowMs: z.number() });

const routeNameSchema = z.enum(['signup', 'pay', 'checkout'] satisfies RouteName[]);

const outcomeSchema = z.object({
  route: routeNameSchema,
  dueAtS: z.number(),
  stream: z.number().int(),
  sendLagMs: z.number(),
  latencyMs: z.number(),
  ok: z.boolean(),
  cause: z.string(),
  status: z.number().int().nullable(),
  traceId: z.string().optional(),
  sentAtEpochMs: z.number().optional(),
  idempotencyKey: z.string().optional(),
  email: z.string().optional(),
  loadModel: z.literal('closed').optional(),
}) satisfies z.ZodType<RequestOutcome>;

const summarySchema = z.object({
  route: routeNameSchema,
  connections: z.number(),
  fromS: z.number(),
  untilS: z.number(),
  sent: z.number(),
  answered: z.number(),
  ok: z.number(),
  autocannon: z.object({
    errors: z.number(),
    timeouts: z.number(),
    non2xx: z.number(),
    instances: z.number(),
  }),
  bounded: z.array(z.object({ atS: z.number(), errors: z.number(), pausedMs: z.number() })),
  labProcessCpuShare: z.number().nullable(),
}) satisfies z.ZodType<ClosedStreamSummary>;

const runLineSchema = z.object({ run: z.string() });
const inFlightLineSchema = z.object({ inFlight: z.partialRecord(routeNameSchema, z.number()) });
const doneLineSchema = z.object({ done: z.literal(true), summary: summarySchema.optional() });
const errorLineSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/**
 * One line of a run's stream, told apart by the one key each kind has (an outcome has none of them).
 * Throws on a line that is not one of them: the agent image is built from this very source, so a
 * mismatch is a bug, not something to guess around.
 */
export function parseGeneratorLine(text: string): GeneratorLine {
  const value: unknown = JSON.parse(text);
  if (value && typeof value === 'object') {
    if ('inFlight' in value) return inFlightLineSchema.parse(value);
    if ('run' in value) return runLineSchema.parse(value);
    if ('done' in value) return doneLineSchema.parse(value);
    if ('error' in value) return errorLineSchema.parse(value);
  }
  return outcomeSchema.parse(value);
}

/**
 * Splits a stream of text into complete lines: each call takes the next chunk and returns the lines it
 * completed, keeping a partial last line for the next chunk.
 *
 * @example
 *   const split = ndjsonSplitter();
 *   split('{"a":1}\n{"b"') // ['{"a":1}']
 *   split(':2}\n')         // ['{"b":2}']
 */
export function ndjsonSplitter(): (chunk: string) => string[] {
  let rest = '';
  return (chunk) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    return parts.filter((line) => line !== '');
  };
}

/** A container's state as the engine reports it, in words for an error message. */
export function describeContainerState(state: {
  Status?: string;
  ExitCode?: number;
  OOMKilled?: boolean;
}): string {
  if (state.Status === 'running') return 'the container is still running';
  if (state.Status === 'paused') return 'the container is paused';
  const oom = state.OOMKilled ? ', killed for lack of memory' : '';
  const status = state.Status === 'exited' ? 'has exited' : `is ${state.Status ?? 'in an unknown state'}`;
  return `the container ${status} (exit code ${state.ExitCode ?? '?'}${oom})`;
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
}
