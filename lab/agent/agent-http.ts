import type http from 'node:http';

/** Largest control body the agents accept: their bodies are a few hundred bytes of JSON. */
const MAX_BODY_BYTES = 1024 * 1024;

export async function readJsonBody(request: http.IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error(`body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
}

export function replyJson(response: http.ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * Listens on every interface of the container and, on SIGTERM or SIGINT (`docker stop`), closes the
 * server and runs `stop` before exiting, so the container stops at once instead of after Docker's 10 s.
 */
export async function serveUntilSignalled(
  server: http.Server,
  port: number,
  stop: () => Promise<void>,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', resolve);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      server.closeAllConnections();
      server.close();
      void stop().finally(() => process.exit(0));
    });
  }
}
