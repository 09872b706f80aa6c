import { createLogger } from './log.ts';
import type { StartedService } from './start-service.ts';

/**
 * The shared `main` of the entry points: start, announce the port on stdout as exactly one JSON line
 * (the lab waits for it), and close cleanly on SIGTERM/SIGINT with exit code 0. A start-up failure
 * (bad config, unreachable database) is one JSON line on stderr and exit code 1.
 *
 * @example
 *   if (import.meta.main) await runMain('monolith', () => startMonolith(monolithConfigFromEnv(process.env)));
 */
export async function runMain(role: string, start: () => Promise<StartedService>): Promise<void> {
  const log = createLogger(process.env['SERVICE_NAME']?.trim() || role);
  let service: StartedService;
  try {
    service = await start();
  } catch (error) {
    log.info('startup_failed', { error: error instanceof Error ? error.message : String(error) });
    // Exit now: a half-started pool may still hold sockets that would keep the process alive.
    process.exit(1);
  }
  process.stdout.write(
    `${JSON.stringify({ event: 'listening', service: service.name, port: service.port })}\n`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.info('stop_failed', { error: String(error) });
        process.exit(0);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
