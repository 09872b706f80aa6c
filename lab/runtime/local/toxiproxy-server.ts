import { Toxiproxy } from 'toxiproxy-node-client';
import { startProcess, type GroupKeeper, type StartedProcess } from '../child-process.ts';
import { LabError } from '../../errors.ts';
import { findFreePort } from '../ports.ts';

export interface StartedToxiproxyServer extends AsyncDisposable {
  readonly apiUrl: string;
  readonly client: Toxiproxy;
  readonly process: StartedProcess;
  stop(): Promise<void>;
}

/**
 * Runs the real `toxiproxy-server` on a free loopback port and waits until its API answers.
 *
 * @example
 *   await using toxiproxy = await startToxiproxyServer(binary);
 *   await toxiproxy.client.createProxy({ name: 'edge', listen: '127.0.0.1:0', upstream: '127.0.0.1:8080' });
 */
export async function startToxiproxyServer(
  binary: string,
  options: { timeoutMs?: number; lifeline?: GroupKeeper } = {},
): Promise<StartedToxiproxyServer> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const port = await findFreePort();
  const { process } = await startProcess({
    name: 'toxiproxy-server',
    command: binary,
    args: ['-host', '127.0.0.1', '-port', String(port)],
    // Toxiproxy logs every API call at debug level; info keeps its output small.
    env: { LOG_LEVEL: 'info' },
    readyWhen: (line) => (line.includes('Starting Toxiproxy HTTP server') ? true : undefined),
    timeoutMs,
    ...(options.lifeline ? { lifeline: options.lifeline } : {}),
  });
  const apiUrl = `http://127.0.0.1:${port}`;
  const client = new Toxiproxy(apiUrl);
  // The log line comes just before the listener binds; give the API a moment to answer.
  for (let attempt = 0; ; attempt++) {
    try {
      await client.getVersion();
      break;
    } catch (error) {
      if (attempt >= 40) {
        await process.stop();
        throw new LabError(
          'TOXIPROXY_API',
          `toxiproxy-server started but its API at ${apiUrl} did not answer within 2000 ms`,
          {
            cause: error,
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const stop = (): Promise<void> => process.stop();
  return { apiUrl, client, process, stop, [Symbol.asyncDispose]: stop };
}
