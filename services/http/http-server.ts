import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context } from '@opentelemetry/api';
import type { ServiceMetrics } from '../metrics/service-metrics.ts';
import { monotonicClock, type Clock } from '../runtime/deadline.ts';
import type { Logger } from '../runtime/log.ts';
import { endServerSpan, startServerSpan } from '../tracing/spans.ts';
import { errorReply } from './error-reply.ts';
import { ClientClosedRequestError, MethodNotAllowedError, RouteNotFoundError } from './http-errors.ts';
import { createRequestContext } from './request-context.ts';
import { createRouter, type JsonReply, type Route } from './router.ts';
import { sendJson } from './send-json.ts';

/** Never traced even when a server counts them: the lab's own probes and scrapes, not requests it sent. */
const UNTRACED_PATHS: ReadonlySet<string> = new Set(['/healthz', '/metrics', '/metrics.json']);

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly routes: readonly Route[];
  readonly metrics: ServiceMetrics;
  readonly log: Logger;
  readonly bodyLimitBytes: number;
  /** Paths kept out of the request counters, so scraping /metrics does not show up as load. */
  readonly unobservedPaths: ReadonlySet<string>;
  readonly clock?: Clock;
}

/** How a drain ended: requests answered while it lasted, and requests whose connection it cut. */
export interface DrainSummary {
  readonly completed: number;
  readonly cut: number;
  readonly tookMs: number;
}

export interface RunningHttpServer {
  readonly host: string;
  readonly port: number;
  /**
   * Drains: stops accepting (the listener closes, so a new connection is refused), closes idle keep-alive
   * connections at once, answers requests in flight with `Connection: close`, waits for them up to
   * `drainMs`, then cuts the connections left. Logs `draining` and `drained`. Safe to call twice.
   */
  close(drainMs: number): Promise<DrainSummary>;
}

/**
 * A `node:http` server that answers JSON on the given routes, 404/405 elsewhere, and turns every thrown
 * error into a JSON answer via error-reply.ts.
 *
 * @example
 *   const server = await startHttpServer({ host: '127.0.0.1', port: 0, routes, metrics, log, ... });
 *   server.port; // e.g. 41234
 */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const clock = options.clock ?? monotonicClock;
  const match = createRouter(options.routes);
  // Every request being answered, probes included: a drain waits for these and cuts what is left of them.
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  let completedWhileDraining = 0;

  const answer = async (
    request: IncomingMessage,
    url: string,
    signal: AbortSignal,
    receivedAt: number,
  ): Promise<JsonReply> => {
    try {
      const route = match(request.method ?? 'GET', url);
      if (route.kind === 'not_found') throw new RouteNotFoundError(route.path);
      if (route.kind === 'method_not_allowed') {
        throw new MethodNotAllowedError(request.method ?? '?', route.path, route.allow);
      }
      const requestContext = createRequestContext(request, signal, {
        bodyLimitBytes: options.bodyLimitBytes,
        receivedAt,
      });
      return await route.handler(requestContext);
    } catch (error) {
      return errorReply(error, options.log);
    }
  };

  const dispatch = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const receivedAt = clock();
    const url = request.url ?? '/';
    const path = url.split('?')[0] ?? url;
    const observed = !options.unobservedPaths.has(path);
    if (observed) {
      options.metrics.requestStarted();
      const matched = match(request.method ?? 'GET', url);
      response.once('close', () => {
        options.metrics.requestFinished(response.writableFinished ? response.statusCode : undefined, {
          method: request.method ?? 'GET',
          // A 404 has no route label, so made-up paths cannot create new series.
          route: matched.kind === 'not_found' ? undefined : matched.path,
          durationMs: clock() - receivedAt,
        });
      });
    }
    const abort = new AbortController();
    response.once('close', () => {
      if (!response.writableFinished) abort.abort(new ClientClosedRequestError('client closed the request'));
    });

    // The handler runs inside the request's server span, so its spans and log lines join the caller's trace.
    const traced =
      observed && !UNTRACED_PATHS.has(path)
        ? startServerSpan(options.log.service, request.method ?? 'GET', path, request.headers)
        : undefined;
    const reply: JsonReply = traced
      ? await context.with(traced.context, () => answer(request, url, abort.signal, receivedAt))
      : await answer(request, url, abort.signal, receivedAt);
    if (reply.status === 413) {
      // Stop reading the rest of an oversized upload: answer, then drop the connection.
      response.once('finish', () => request.socket.destroy());
    }
    const clientLeft = abort.signal.aborted || response.destroyed;
    // Once draining, this answer is the connection's last: the client opens its next one elsewhere.
    if (draining && !response.headersSent) response.setHeader('connection', 'close');
    try {
      sendJson(response, reply);
    } finally {
      if (traced) endServerSpan(traced.span, reply.status, reply.body, clientLeft);
    }
  };

  const server = http.createServer((request, response) => {
    inFlight.add(response);
    response.once('close', () => {
      inFlight.delete(response);
      if (draining && response.writableFinished) completedWhileDraining += 1;
    });
    dispatch(request, response).catch((error: unknown) => {
      options.log.throttled('dispatch_failed', { message: String(error) });
      response.destroy();
    });
  });
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    // Node's own answer to an Expect other than 100-continue is a bare 417; keep error bodies JSON. The
    // body was not read, so the connection cannot carry another request.
    sendJson(response, {
      status: 417,
      body: {
        error: `Expect: ${request.headers.expect} is not supported; only 100-continue is`,
        field: 'Expect',
      },
      headers: { connection: 'close' },
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // Node's default answer to an unparseable request is a bare 400; keep error bodies JSON.
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ error: 'malformed HTTP request', detail: error.code ?? error.message });
    socket.end(
      `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;

  let closing: Promise<DrainSummary> | undefined;
  return {
    host: options.host,
    port: address.port,
    close(drainMs) {
      closing ??= new Promise<DrainSummary>((resolve) => {
        const startedAt = clock();
        draining = true;
        options.log.info('draining', { inFlight: inFlight.size, drainMs });
        let cut = 0;
        const deadline = setTimeout(() => {
          cut = inFlight.size;
          server.closeAllConnections();
        }, drainMs);
        // Called once every connection has ended: the idle ones at once, the busy ones after their answer.
        server.close(() => {
          clearTimeout(deadline);
          const summary = { completed: completedWhileDraining, cut, tookMs: Math.round(clock() - startedAt) };
          options.log.info('drained', summary);
          resolve(summary);
        });
        // Node's close() closes idle connections too; said here so it does not depend on that.
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
