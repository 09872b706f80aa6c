/**
 * The load generator as a container in the lab's network: the lab posts a run, this process drives it
 * with the same generators the lab uses in-process (drive-load.ts, closed-load.ts) and streams every
 * outcome back. So the path between the lab's machine and the engine (docker-proxy, a WAN) is not part
 * of what is measured; only the outcomes cross it.
 *
 *   GET    /clock       {"nowMs": performance.now()}: the lab aligns its timeline with this clock
 *   POST   /runs        a run (generatorRunSchema); answers 200 with NDJSON lines, in this order:
 *                          {"run": "<id>"}                       at once
 *                          a RequestOutcome as it is             one per request, as they complete
 *                          {"inFlight": {"pay": 3}}              every 100 ms ({} for a closed run)
 *                          {"done": true}                        last (a closed run adds "summary")
 *                          {"error": {"code", "message"}}        last, instead, when the run itself threw
 *   DELETE /runs/<id>   stops the run as an abort stops it in the lab: what was in flight is cut and
 *                       its outcome still streamed, then the last line. Closing the POST stops it too.
 *   GET    /healthz     {"ok": true, "runs": <running>}
 *
 * Importing this file starts the server: the lab's side (lab/runtime/containers/generator-container.ts)
 * imports its types only.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { z } from 'zod';
import { driveClosedLoad, type ClosedStreamSummary } from '../load/closed-load.ts';
import { driveLoad } from '../load/drive-load.ts';
import type { RequestOutcome } from '../load/outcome.ts';
import type { RouteName } from '../vocabulary/topology.ts';
import { readJsonBody, replyJson, serveUntilSignalled } from './agent-http.ts';
import { LOAD_GENERATOR_PORT } from './agent-ports.ts';

/** How often the in-flight counts go out: they also tell the lab the generator is alive. */
const IN_FLIGHT_INTERVAL_MS = 100;
/** Outcomes are written in batches this often: one write per outcome costs both ends CPU at 2,000/s. */
const FLUSH_INTERVAL_MS = 50;

const routeNameSchema = z.enum(['signup', 'pay', 'checkout'] satisfies RouteName[]);
const windowFields = {
  fromS: z.number().nonnegative().optional(),
  untilS: z.number().nonnegative().optional(),
};

/**
 * What both kinds of run share. `timelineZeroMs` is the timeline's t = 0 on this process's clock
 * (performance.now()): the lab works it out from GET /clock, so every time in a run (due times, windows,
 * outcomes) is on the lab's own timeline, exactly as when the generator runs in the lab's process.
 */
const runFields = {
  durationS: z.number().positive(),
  timeoutMs: z.number().int().positive(),
  runTag: z.string().min(1).max(100),
  traceRequests: z.boolean().optional(),
  timelineZeroMs: z.number(),
};

const openRunSchema = z.object({
  kind: z.literal('open'),
  routes: z.array(
    z.object({
      route: routeNameSchema,
      url: z.url(),
      ratePerSecond: z.number().nonnegative(),
      ...windowFields,
    }),
  ),
  maxInFlightPerRoute: z.number().int().positive(),
  ...runFields,
});

const closedRunSchema = z.object({
  kind: z.literal('closed'),
  load: z.object({
    route: routeNameSchema,
    url: z.url(),
    connections: z.number().int().positive(),
    stream: z.number().int().nonnegative(),
    ...windowFields,
  }),
  maxErrorsPerSecond: z.number().int().positive().optional(),
  pauseMs: z.number().int().nonnegative().optional(),
  ...runFields,
});

const generatorRunSchema = z.discriminatedUnion('kind', [openRunSchema, closedRunSchema]);
export type GeneratorRun = z.infer<typeof generatorRunSchema>;
export type OpenGeneratorRun = z.infer<typeof openRunSchema>;
export type ClosedGeneratorRun = z.infer<typeof closedRunSchema>;

/** Every line but an outcome carries one key an outcome never has. */
export type GeneratorLine =
  | RequestOutcome
  | { run: string }
  | { inFlight: Partial<Record<RouteName, number>> }
  | { done: true; summary?: ClosedStreamSummary }
  | { error: { code: string; message: string } };

/** The NDJSON writer of one run: lines are gathered and written every FLUSH_INTERVAL_MS. */
function lineWriter(response: http.ServerResponse): {
  push(line: GeneratorLine): void;
  end(last: GeneratorLine): void;
} {
  let pending: string[] = [];
  const flush = (): void => {
    if (pending.length === 0 || response.destroyed) return;
    response.write(pending.join(''));
    pending = [];
  };
  const timer = setInterval(flush, FLUSH_INTERVAL_MS);
  return {
    push: (line) => void pending.push(`${JSON.stringify(line)}\n`),
    end: (last) => {
      clearInterval(timer);
      pending.push(`${JSON.stringify(last)}\n`);
      flush();
      if (!response.destroyed) response.end();
    },
  };
}

function errorLine(error: unknown): GeneratorLine {
  const code = error && typeof error === 'object' && 'code' in error ? String(error.code) : 'GENERATOR_ERROR';
  return { error: { code, message: error instanceof Error ? error.message : String(error) } };
}

/** Drives one run to its end, writing its lines; the run stops early when `signal` aborts. */
async function drive(
  run: GeneratorRun,
  write: ReturnType<typeof lineWriter>,
  signal: AbortSignal,
): Promise<void> {
  const onOutcome = (outcome: RequestOutcome): void => write.push(outcome);
  const common = {
    durationS: run.durationS,
    timeoutMs: run.timeoutMs,
    runTag: run.runTag,
    startedAtMs: run.timelineZeroMs,
    signal,
    onOutcome,
    ...(run.traceRequests !== undefined ? { traceRequests: run.traceRequests } : {}),
  };
  if (run.kind === 'open') {
    // Outcomes leave as they come: the lab keeps them, this process need not (hours of `lab up --load`).
    const load = driveLoad({
      ...common,
      routes: run.routes,
      maxInFlightPerRoute: run.maxInFlightPerRoute,
      keepOutcomes: false,
    });
    const routes = [...new Set(run.routes.map((route) => route.route))];
    const ticker = setInterval(
      () =>
        write.push({ inFlight: Object.fromEntries(routes.map((route) => [route, load.inFlight(route)])) }),
      IN_FLIGHT_INTERVAL_MS,
    );
    try {
      await load.finished;
    } finally {
      clearInterval(ticker);
    }
    write.end({ done: true });
    return;
  }
  const closed = driveClosedLoad({
    ...common,
    load: run.load,
    ...(run.maxErrorsPerSecond !== undefined ? { maxErrorsPerSecond: run.maxErrorsPerSecond } : {}),
    ...(run.pauseMs !== undefined ? { pauseMs: run.pauseMs } : {}),
  });
  // autocannon keeps no in-flight count the lab reads; the empty line still says the generator is alive.
  const ticker = setInterval(() => write.push({ inFlight: {} }), IN_FLIGHT_INTERVAL_MS);
  try {
    const { summary } = await closed.finished;
    write.end({ done: true, summary });
  } finally {
    clearInterval(ticker);
  }
}

/**
 * The generator's HTTP server; `stopAll` aborts every run (SIGTERM). Several runs go at once: a
 * scenario's steady load, each closed stream and a hand flood are one POST each.
 */
function createLoadServer(): { server: http.Server; stopAll(): void } {
  const runs = new Map<string, AbortController>();

  const startRun = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const parsed = generatorRunSchema.safeParse(await readJsonBody(request));
    if (!parsed.success) return replyJson(response, 400, { error: z.prettifyError(parsed.error) });
    const id = randomBytes(6).toString('hex');
    const abort = new AbortController();
    runs.set(id, abort);
    // The lab went away (or aborted the request): nobody reads the outcomes, so the run stops.
    response.once('close', () => {
      if (!response.writableFinished) abort.abort();
    });
    response.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    response.write(`${JSON.stringify({ run: id } satisfies GeneratorLine)}\n`);
    const write = lineWriter(response);
    try {
      await drive(parsed.data, write, abort.signal);
    } catch (error) {
      write.end(errorLine(error));
    } finally {
      runs.delete(id);
    }
  };

  const server = http.createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://generator');
      if (request.method === 'GET' && url.pathname === '/clock') {
        return replyJson(response, 200, { nowMs: performance.now() });
      }
      if (request.method === 'GET' && url.pathname === '/healthz') {
        return replyJson(response, 200, { ok: true, runs: runs.size });
      }
      if (request.method === 'POST' && url.pathname === '/runs') return await startRun(request, response);
      const stop = /^\/runs\/([0-9a-f]+)$/.exec(url.pathname);
      if (request.method === 'DELETE' && stop?.[1]) {
        const run = runs.get(stop[1]);
        if (!run) return replyJson(response, 404, { error: `no run ${stop[1]} is running` });
        run.abort();
        return replyJson(response, 204);
      }
      return replyJson(response, 404, { error: `no such path: ${request.method} ${url.pathname}` });
    })().catch((error: unknown) => {
      if (!response.headersSent) replyJson(response, 400, { error: String(error) });
      else response.destroy();
    });
  });
  return {
    server,
    stopAll: () => {
      for (const run of runs.values()) run.abort();
    },
  };
}

const { server, stopAll } = createLoadServer();
await serveUntilSignalled(server, Number(process.env.PORT ?? LOAD_GENERATOR_PORT), async () => stopAll());
process.stderr.write(`load generator on tcp ${process.env.PORT ?? LOAD_GENERATOR_PORT}\n`);
