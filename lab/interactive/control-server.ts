/**
 * The running lab's control channel: HTTP on a Unix socket (see control-protocol.ts). The socket is a
 * file in a directory only its owner may enter (mode 700) and is itself mode 600: file permissions, not
 * the network, decide who may break the lab.
 */
import { chmod } from 'node:fs/promises';
import http from 'node:http';
import { isLabError, LabError, type LabErrorCode } from '../errors.ts';
import type { Fault } from '../vocabulary/faults.ts';
import type { ControlErrorBody, FaultApplyAnswer, HealAnswer, LabStatus } from './control-protocol.ts';

/** What the server asks of the lab for each request. */
export interface ControlHandlers {
  status(): LabStatus;
  applyFault(fault: Fault): Promise<FaultApplyAnswer>;
  heal(which?: { kind: string; target: string }): Promise<HealAnswer>;
}

export interface ControlServer {
  /** Stops taking requests and closes every connection. Safe to call twice. */
  close(): Promise<void>;
}

/** Bodies are one fault or one heal: a few hundred bytes. */
const MAX_BODY_BYTES = 64 * 1024;

const STATUS_OF: Partial<Record<LabErrorCode, number>> = {
  USAGE: 400,
  INTERRUPTED: 503,
  FAULT_NOT_OBSERVED: 502,
  DEPENDENCY_FAILED: 502,
  TOXIPROXY_API: 502,
};

async function readJson(request: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new LabError('USAGE', `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text === '' ? {} : (JSON.parse(text) as unknown);
  } catch {
    throw new LabError('USAGE', 'the request body is not JSON');
  }
}

function reply(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function replyError(response: http.ServerResponse, error: unknown): void {
  const code: LabErrorCode = isLabError(error) ? error.code : 'DEPENDENCY_FAILED';
  const message = error instanceof Error ? error.message : String(error);
  const body: ControlErrorBody = { error: { code, message } };
  reply(response, STATUS_OF[code] ?? 500, body);
}

/** The fault of a POST /faults body; its fields were built and checked by the client's own parser. */
function faultOf(body: unknown): Fault {
  const fault = (body as { fault?: unknown } | null)?.fault;
  if (!fault || typeof fault !== 'object' || typeof (fault as { kind?: unknown }).kind !== 'string')
    throw new LabError('USAGE', 'POST /faults needs { "fault": { "kind": ..., ... } }');
  return fault as Fault;
}

function healOf(body: unknown): { kind: string; target: string } | undefined {
  const { kind, target } = (body ?? {}) as { kind?: unknown; target?: unknown };
  if (kind === undefined && target === undefined) return undefined;
  if (typeof kind !== 'string' || typeof target !== 'string')
    throw new LabError('USAGE', 'POST /heal takes {} (every fault) or { "kind": ..., "target": ... }');
  return { kind, target };
}

/**
 * Listens on `socketPath` (which must not exist) and serves the lab's control requests.
 *
 * @example
 *   const server = await startControlServer(paths.socket, { status, applyFault, heal });
 */
export async function startControlServer(
  socketPath: string,
  handlers: ControlHandlers,
): Promise<ControlServer> {
  const server = http.createServer((request, response) => {
    void (async () => {
      try {
        const route = `${request.method ?? 'GET'} ${new URL(request.url ?? '/', 'http://lab').pathname}`;
        switch (route) {
          case 'GET /status':
            reply(response, 200, handlers.status());
            return;
          case 'POST /faults':
            reply(response, 201, await handlers.applyFault(faultOf(await readJson(request))));
            return;
          case 'POST /heal':
            reply(response, 200, await handlers.heal(healOf(await readJson(request))));
            return;
          default:
            reply(response, 404, {
              error: { code: 'USAGE', message: `no ${route}; see GET /status, POST /faults, POST /heal` },
            } satisfies ControlErrorBody);
        }
      } catch (error) {
        replyError(response, error);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new LabError(
          'USAGE',
          `could not listen on the control socket ${socketPath}: ${error.message}` +
            (error.code === 'EADDRINUSE' ? '; is another lab up? npm run lab -- status' : ''),
        ),
      ),
    );
    server.listen(socketPath, resolve);
  });
  await chmod(socketPath, 0o600);
  let closing: Promise<void> | undefined;
  return {
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
