import { startTracing, tracingOptionsFromEnv, type ServiceTracing } from '../tracing/start-tracing.ts';
import { createLogger } from './log.ts';
import type { StartedService } from './start-service.ts';

/**
 * The shared `main` of the entry points: start tracing (when OTEL_EXPORTER_OTLP_ENDPOINT is set), start
 * the service, announce the port on stdout as exactly one JSON line (the lab waits for it), and on
 * SIGTERM/SIGINT drain (DRAIN_MS: see RunningHttpServer.close), end the pool, flush the last spans and exit
 * 0; a second signal exits 1 at once. A start-up failure (bad config, unreachable database) is one JSON
 * line on stderr and exit code 1.
 *
 * @example
 *   if (import.meta.main) await runMain('monolith', () => startMonolith(monolithConfigFromEnv(process.env)));
 */
export async function runMain(role: string, start: () => Promise<StartedService>): Promise<void> {
  // The name start-service.ts gives the service too: its server spans look their tracer up by it.
  const serviceName = process.env['SERVICE_NAME']?.trim() || role;
  const log = createLogger(serviceName);
  let tracing: ServiceTracing;
  let service: StartedService;
  try {
    // Before the service, so that its first request is traced.
    tracing = await startTracing({ ...tracingOptionsFromEnv(serviceName, process.env), log });
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
    if (stopping) {
      // A second signal means "now": whoever sent it will not wait for the drain.
      log.info('stop_forced', { signal });
      process.exit(1);
    }
    stopping = true;
    log.info('stopping', { signal });
    service
      .close()
      .catch((error: unknown) => log.info('stop_failed', { error: String(error) }))
      // After the close: the requests that finished during the drain have spans too. Bounded, so a dead
      // receiver cannot hold the exit.
      .then(() => tracing.shutdown())
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
