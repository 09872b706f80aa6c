/**
 * The services' OTLP/HTTP endpoint inside the lab's network. It keeps each batch of spans as it came
 * until the lab, which may be on another machine and unreachable from the containers, fetches it and
 * feeds it to its own trace collector (lab/runtime/containers/trace-relay.ts).
 *
 *   POST /v1/traces                    a batch, as any OTLP/HTTP exporter sends it
 *   GET  /batches/next?after=<seq>     the oldest batch after <seq> (waits up to 1 s): its body as it came,
 *                                      with x-batch-seq, content-type, content-encoding; 204 when none
 *   GET  /healthz                      {"kept": batches not yet fetched, "refused": batches refused when full}
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { replyJson, serveUntilSignalled } from './agent-http.ts';
import { TRACE_RELAY_PORT } from './agent-ports.ts';
/** Batches not yet fetched are kept up to this many bytes; past it the exporter is told 503 and retries. */
const MAX_KEPT_BYTES = 128 * 1024 * 1024;
const LONG_POLL_MS = 1_000;

interface Batch {
  seq: number;
  body: Buffer;
  contentType: string;
  contentEncoding: string | undefined;
}

const kept: Batch[] = [];
let keptBytes = 0;
let lastSeq = 0;
let refused = 0;
const waiting = new Set<() => void>();

async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function nextAfter(after: number): Promise<Batch | undefined> {
  // Everything up to `after` has reached the lab: forget it.
  while (kept[0] && kept[0].seq <= after) keptBytes -= kept.shift()?.body.length ?? 0;
  if (kept[0]) return kept[0];
  await Promise.race([new Promise<void>((resolve) => waiting.add(resolve)), sleep(LONG_POLL_MS)]);
  waiting.clear();
  return kept.find((batch) => batch.seq > after);
}

const server = http.createServer((request, response) => {
  void (async () => {
    const url = new URL(request.url ?? '/', 'http://relay');
    if (request.method === 'POST' && url.pathname === '/v1/traces') {
      const body = await readBody(request);
      if (keptBytes + body.length > MAX_KEPT_BYTES) {
        refused += 1;
        return replyJson(response, 503, { error: 'relay full: the lab is not fetching' });
      }
      lastSeq += 1;
      kept.push({
        seq: lastSeq,
        body,
        contentType: request.headers['content-type'] ?? 'application/json',
        contentEncoding: request.headers['content-encoding'],
      });
      keptBytes += body.length;
      for (const wake of waiting) wake();
      return replyJson(response, 200, {});
    }
    if (request.method === 'GET' && url.pathname === '/batches/next') {
      const batch = await nextAfter(Number(url.searchParams.get('after') ?? 0));
      if (!batch) return replyJson(response, 204);
      response.writeHead(200, {
        'x-batch-seq': String(batch.seq),
        'content-type': batch.contentType,
        ...(batch.contentEncoding ? { 'content-encoding': batch.contentEncoding } : {}),
      });
      response.end(batch.body);
      return;
    }
    if (url.pathname === '/healthz') return replyJson(response, 200, { kept: kept.length, refused });
    return replyJson(response, 404, { error: `no such path: ${url.pathname}` });
  })().catch((error: unknown) => replyJson(response, 400, { error: String(error) }));
});

await serveUntilSignalled(server, Number(process.env.PORT ?? TRACE_RELAY_PORT), async () => undefined);
process.stderr.write(`trace relay on tcp ${TRACE_RELAY_PORT}\n`);
