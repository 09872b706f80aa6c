import { activeTraceIds } from '../tracing/spans.ts';

/**
 * JSON lines on stderr. Stdout is reserved for the single `listening` line the lab waits for, and logging
 * stays off the request path: under load a log line per request would itself become the bottleneck.
 */
export interface Logger {
  /** The service the lines are written for; its server spans are traced under this name. */
  readonly service?: string;
  info(event: string, fields?: Record<string, unknown>): void;
  /** Logs at most once per interval per event name, then reports how many were suppressed. */
  throttled(event: string, fields?: Record<string, unknown>): void;
}

/**
 * @example
 *   const log = createLogger('monolith');
 *   log.info('pool_error', { message: 'Connection terminated' });
 */
export function createLogger(
  service: string,
  write: (line: string) => void = (line) => process.stderr.write(line),
  throttleMs = 5_000,
): Logger {
  const lastLogged = new Map<string, { at: number; suppressed: number }>();
  const info = (event: string, fields: Record<string, unknown> = {}): void => {
    // A line written while a request's span is active names its trace, so the lab can join the two.
    write(
      `${JSON.stringify({ time: new Date().toISOString(), service, event, ...activeTraceIds(), ...fields })}\n`,
    );
  };
  return {
    service,
    info,
    throttled(event, fields = {}) {
      const now = Date.now();
      const last = lastLogged.get(event);
      if (last && now - last.at < throttleMs) {
        last.suppressed += 1;
        return;
      }
      lastLogged.set(event, { at: now, suppressed: 0 });
      info(event, last?.suppressed ? { ...fields, suppressed: last.suppressed } : fields);
    },
  };
}
