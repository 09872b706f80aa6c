/**
 * The live view's HTTP server: the page, a stream of state snapshots (server-sent events), the state as
 * JSON, ECharts, and the run's report once it is written. Read-only, loopback unless told otherwise.
 *
 * The run only ever calls `watcher.emit`, which queues the event and arms a timer: no folding, no
 * network, no JSON, no drawing on the run's path. Snapshots are built at most four times a second, once
 * for all viewers, and a viewer whose socket is full is skipped until it drains, then sent only the
 * latest snapshot: memory stays bounded by one message per viewer whatever a viewer does.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { dirname, extname, resolve, sep } from 'node:path';
import { renderTopologyDiagram } from '../diagram/topology-diagram.ts';
import { LabError } from '../errors.ts';
import type { LabLog } from '../runtime/runtime.ts';
import { LIVE_PAGE_POLICY, LIVE_PAGE_SCRIPT, LIVE_PATHS, renderLivePage } from './live-page.ts';
import {
  INITIAL_LIVE_STATE,
  liveSnapshot,
  reduceLiveState,
  REPORT_PREFIX,
  type DrawTopology,
  type LiveState,
} from './live-state.ts';
import type { RunEvent, RunWatcher } from './run-events.ts';

export interface LiveServerOptions {
  /** Where to listen; not loopback exposes the page and the run's figures, read-only, to the network. */
  host?: string;
  /** 0: any free port. */
  port?: number;
  log: LabLog;
}

/** What one viewer of `/events` costs the server right now. */
export interface LiveViewerStats {
  /** Bytes written to the viewer's socket that it has not taken yet (held by Node, not the kernel). */
  bufferedBytes: number;
  /** True while its socket is full: it is sent nothing until it drains. */
  waitingForDrain: boolean;
  messagesSent: number;
  /** Snapshots it missed while full; it gets the latest one when it drains. */
  messagesSkipped: number;
}

export interface LiveServer {
  /** The page's address, e.g. `http://127.0.0.1:43117/`. */
  url: string;
  /** Hand it to the run (runScenario's `watcher`); `emit` returns at once and never throws. */
  watcher: RunWatcher;
  /** Ends every stream and connection and stops listening. Safe to call twice. */
  close(): Promise<void>;
  /** One entry per connected `/events` viewer: for tests and for `--live` diagnostics. */
  viewers(): LiveViewerStats[];
}

/** At most this many snapshots a second per viewer: the page is read by people, not machines. */
export const SNAPSHOTS_PER_SECOND = 4;
const MIN_SNAPSHOT_INTERVAL_MS = 1000 / SNAPSHOTS_PER_SECOND;
/** A comment line now and then, so proxies and the viewer's browser see the stream is alive. */
const KEEPALIVE_MS = 15_000;
const MAX_PENDING_EVENTS = 10_000;
/** A room full of laptops is fine; a runaway script opening streams is not. */
const MAX_VIEWERS = 200;

interface Viewer {
  response: ServerResponse;
  waitingForDrain: boolean;
  /** The version of the last snapshot written to it. */
  sentVersion: number;
  messagesSent: number;
  messagesSkipped: number;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
};

const COMMON_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * Starts the live view. Errors a user can fix (port taken, no permission, an address that is not this
 * machine's) are LabError USAGE naming the flag that fixes them.
 *
 * @example
 * const live = await startLiveServer({ log: console.log });
 * console.log(`live view: ${live.url}`);
 * try { await runScenario(scenario, { runtime, log, watcher: live.watcher }); } finally { await live.close(); }
 */
export async function startLiveServer(options: LiveServerOptions): Promise<LiveServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const loopback = isLoopbackHost(host);

  let state: LiveState = INITIAL_LIVE_STATE;
  // Events not folded into the state yet: the run's side only appends, the timer folds.
  let pending: RunEvent[] = [];
  let reportDir: string | null = null;
  const viewers = new Set<Viewer>();
  let message = { version: -1, json: '', event: '' };
  let flushTimer: NodeJS.Timeout | null = null;
  let lastFlushAtMs = -Infinity;
  let closed = false;

  const drawTopology = memoisedDiagram();
  const foldPending = (): void => {
    const events = pending;
    pending = [];
    for (const event of events) {
      try {
        state = reduceLiveState(state, event);
        if (event.type === 'run-started') reportDir = null;
        if (event.type === 'run-finished' && event.reportPath) reportDir = dirname(event.reportPath);
      } catch (error) {
        options.log(`live view: ignored a ${event.type} event it could not read: ${String(error)}`);
      }
    }
  };
  const currentMessage = (): typeof message => {
    foldPending();
    if (message.version !== state.version) {
      const json = JSON.stringify(liveSnapshot(state, drawTopology));
      message = { version: state.version, json, event: `id: ${state.version}\ndata: ${json}\n\n` };
    }
    return message;
  };

  const send = (viewer: Viewer): void => {
    if (viewer.waitingForDrain) {
      viewer.messagesSkipped += 1;
      return;
    }
    const { version, event } = currentMessage();
    if (viewer.sentVersion === version) return;
    viewer.sentVersion = version;
    viewer.messagesSent += 1;
    write(viewer, event);
  };

  const write = (viewer: Viewer, text: string): void => {
    if (viewer.response.write(text)) return;
    // The socket is full: Node holds this one write; nothing more is written until it drains, and
    // then only the latest snapshot, whatever was missed.
    viewer.waitingForDrain = true;
    viewer.response.once('drain', () => {
      viewer.waitingForDrain = false;
      if (!closed && viewers.has(viewer)) sendSafely(viewer);
    });
  };

  const sendSafely = (viewer: Viewer): void => {
    try {
      send(viewer);
    } catch (error) {
      // A snapshot that cannot be built must not take the run down.
      options.log(`live view: could not send the state: ${String(error)}`);
    }
  };

  const flush = (): void => {
    flushTimer = null;
    lastFlushAtMs = performance.now();
    if (closed) return;
    foldPending();
    for (const viewer of viewers) sendSafely(viewer);
  };

  const watcher: RunWatcher = {
    emit(event: RunEvent) {
      if (closed) return;
      pending.push(event);
      // However fast the run emits, the queue holds at most this many events between two folds.
      if (pending.length >= MAX_PENDING_EVENTS) foldPending();
      if (flushTimer !== null) return;
      flushTimer = setTimeout(
        flush,
        Math.max(0, lastFlushAtMs + MIN_SNAPSHOT_INTERVAL_MS - performance.now()),
      );
      flushTimer.unref();
    },
  };

  const openStream = (request: IncomingMessage, response: ServerResponse): void => {
    if (viewers.size >= MAX_VIEWERS) {
      reply(response, request, 503, 'text/plain; charset=utf-8', `at most ${MAX_VIEWERS} viewers\n`);
      return;
    }
    response.writeHead(200, {
      ...COMMON_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    response.socket?.setNoDelay(true);
    // EventSource reconnects by itself after this many ms; its first message is then a whole snapshot.
    response.write('retry: 2000\n\n');
    const viewer: Viewer = {
      response,
      waitingForDrain: false,
      sentVersion: -1,
      messagesSent: 0,
      messagesSkipped: 0,
    };
    viewers.add(viewer);
    const forget = (): void => {
      viewers.delete(viewer);
    };
    response.on('close', forget);
    response.on('error', forget);
    sendSafely(viewer);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { ...COMMON_HEADERS, allow: 'GET, HEAD', 'content-type': 'text/plain' });
      response.end('the live view is read-only: GET and HEAD only\n');
      return;
    }
    // Bound to loopback, answer only to loopback names: a web page elsewhere cannot rebind its own
    // name to 127.0.0.1 and read the run through a visitor's browser.
    if (loopback && !isLoopbackHost(hostOfHeader(request.headers.host))) {
      reply(
        response,
        request,
        403,
        'text/plain; charset=utf-8',
        'this live view answers to localhost only\n',
      );
      return;
    }
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (path === LIVE_PATHS.page || path === '/index.html') {
      reply(response, request, 200, CONTENT_TYPES['.html'], livePage(), {
        'content-security-policy': LIVE_PAGE_POLICY,
      });
    } else if (path === LIVE_PATHS.script) {
      reply(response, request, 200, CONTENT_TYPES['.js'], LIVE_PAGE_SCRIPT);
    } else if (path === LIVE_PATHS.echarts) {
      reply(response, request, 200, CONTENT_TYPES['.js'], await echartsBundle());
    } else if (path === LIVE_PATHS.state) {
      reply(response, request, 200, CONTENT_TYPES['.json'], currentMessage().json);
    } else if (path === LIVE_PATHS.events) {
      openStream(request, response);
    } else if (path.startsWith(REPORT_PREFIX)) {
      foldPending();
      await serveReport(request, response, reportDir, path.slice(REPORT_PREFIX.length));
    } else {
      reply(response, request, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        reply(response, request, 500, 'text/plain; charset=utf-8', `live view: ${String(error)}\n`);
      } else response.destroy();
    });
  });
  await listen(server, host, port);
  const keepalive = setInterval(() => {
    for (const viewer of viewers) if (!viewer.waitingForDrain) write(viewer, ': keepalive\n\n');
  }, KEEPALIVE_MS);
  keepalive.unref();

  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const url = pageUrl(host, boundPort);
  if (!loopback) {
    options.log(
      `live view: listening on ${formatHost(host)}:${boundPort}, not only this machine: anyone who can reach ` +
        `${url} sees the page and the run's figures (read-only: the scenario, its timeline and faults, ` +
        `per-second counts and latencies, and the report once written; nothing can be changed)`,
    );
  }

  let closing: Promise<void> | null = null;
  return {
    url,
    watcher,
    viewers: () =>
      [...viewers].map((viewer) => ({
        bufferedBytes: viewer.response.writableLength,
        waitingForDrain: viewer.waitingForDrain,
        messagesSent: viewer.messagesSent,
        messagesSkipped: viewer.messagesSkipped,
      })),
    close() {
      closing ??= new Promise<void>((done) => {
        // Viewers get what happened last (the end of the run, or why it stopped) before their streams end.
        if (flushTimer !== null) clearTimeout(flushTimer);
        flush();
        closed = true;
        clearInterval(keepalive);
        for (const viewer of viewers) viewer.response.end();
        viewers.clear();
        server.close(() => done());
        // Streams and keep-alive sockets would hold close() open; a viewer that never reads too.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function reply(
  response: ServerResponse,
  request: IncomingMessage,
  status: number,
  contentType: string | undefined,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    ...COMMON_HEADERS,
    ...headers,
    'content-type': contentType ?? 'application/octet-stream',
    'content-length': Buffer.byteLength(body),
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

let livePageText: string | undefined;
function livePage(): string {
  livePageText ??= renderLivePage();
  return livePageText;
}

let echartsSource: Promise<Buffer> | undefined;
/** ECharts from node_modules, read once: the page must work with no network at all. */
function echartsBundle(): Promise<Buffer> {
  echartsSource ??= readFile(createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'));
  return echartsSource;
}

/**
 * A file of the run's report directory, and nothing outside it: the path is decoded, resolved and then
 * resolved again through symbolic links, and must stay inside the directory both times.
 */
async function serveReport(
  request: IncomingMessage,
  response: ServerResponse,
  reportDir: string | null,
  encodedPath: string,
): Promise<void> {
  const notFound = (why: string) => reply(response, request, 404, 'text/plain; charset=utf-8', `${why}\n`);
  if (reportDir === null) return notFound('no report yet: it is written when the run ends');
  let relative: string;
  try {
    relative = decodeURIComponent(encodedPath);
  } catch {
    return notFound('not a path');
  }
  if (relative === '') relative = 'index.html';
  if (relative.includes('\0')) return notFound('not a path');
  let root: string;
  try {
    root = await realpath(reportDir);
  } catch {
    return notFound('the report directory is gone');
  }
  const inside = (candidate: string) => candidate.startsWith(root + sep);
  const target = resolve(root, relative);
  if (!inside(target)) return notFound('not found');
  let file: string;
  try {
    file = await realpath(target);
    if (!inside(file) || !(await stat(file)).isFile()) return notFound('not found');
  } catch {
    return notFound('not found');
  }
  const info = await stat(file);
  response.writeHead(200, {
    ...COMMON_HEADERS,
    'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': info.size,
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file)
    .on('error', () => response.destroy())
    .pipe(response);
}

/** The same faults give the same picture: draw it again only when they change. */
function memoisedDiagram(): DrawTopology {
  let lastKey = '';
  let lastSvg = '';
  return (deployment, faults) => {
    const key = JSON.stringify([deployment, faults]);
    if (key !== lastKey) {
      lastSvg = renderTopologyDiagram(deployment, faults);
      lastKey = key;
    }
    return lastSvg;
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((done, fail) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.close();
      fail(listenError(error, host, port));
    };
    server.once('error', onError);
    try {
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', onError);
        done();
      });
    } catch (error) {
      // A port out of range throws at once rather than emitting.
      fail(listenError(error as NodeJS.ErrnoException, host, port));
    }
  });
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): LabError {
  const where = `${formatHost(host)}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new LabError(
        'USAGE',
        `the live view cannot listen on ${where}: port ${port} is in use by another program. ` +
          `Choose another with --live-port <port>, or --live-port 0 for any free port`,
        { cause: error },
      );
    case 'EACCES':
      return new LabError(
        'USAGE',
        `the live view may not listen on ${where}: ports below 1024 need administrator rights. ` +
          `Choose a port above 1023 with --live-port <port>, or --live-port 0 for any free port`,
        { cause: error },
      );
    case 'ERR_SOCKET_BAD_PORT':
      return new LabError(
        'USAGE',
        `--live-port ${port} is not a port: give a number from 1 to 65535, or 0 for any free port`,
        { cause: error },
      );
    default:
      return new LabError(
        'USAGE',
        `the live view cannot listen on ${where}: --live-host ${host} is not an address of this machine ` +
          `(${error.code ?? error.message}). Use 127.0.0.1 (this machine only, the default), 0.0.0.0 ` +
          `(every network interface) or one of: ${localAddresses().join(', ') || 'none found'}`,
        { cause: error },
      );
  }
}

/** True for names that can only mean this machine: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    /^127(\.\d{1,3}){3}$/.test(name) ||
    name === '::1' ||
    name === '::ffff:127.0.0.1'
  );
}

/** The host name of a Host header, without its port: `[::1]:8080` -> `::1`. */
function hostOfHeader(header: string | undefined): string {
  if (!header) return '';
  const bracketed = /^\[([^\]]+)\]/.exec(header);
  if (bracketed?.[1]) return bracketed[1];
  return header.split(':')[0] ?? '';
}

function formatHost(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

/** A URL a person can open: for a wildcard address, this machine's first network address. */
function pageUrl(host: string, port: number): string {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const shown = wildcard ? (localAddresses()[0] ?? '127.0.0.1') : host;
  return `http://${formatHost(shown)}:${port}/`;
}

/** This machine's IPv4 addresses other than loopback, e.g. for `--live-host` in a room. */
function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .filter((entry) => entry.family === 'IPv4' && !entry.internal)
    .map((entry) => entry.address);
}
