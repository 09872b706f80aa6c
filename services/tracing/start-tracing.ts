import { context } from '@opentelemetry/api';
// Types only: the SDK and the exporter are loaded when tracing is turned on (see startTracing). These
// imports also tell the containers image which packages the services need.
import type { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { ConfigError, readInteger, readString } from '../runtime/config.ts';
import type { Logger } from '../runtime/log.ts';
import { registerServiceTracer, unregisterServiceTracer } from './spans.ts';

/** How spans leave a service. The lab's receiver wants them soon after each request, not every 5 s. */
export const TRACING_DEFAULTS = {
  /** Spans wait at most this long in the batch before they are sent (the SDK's default is 5,000). */
  scheduledDelayMs: 200,
  /** One OTLP request carries at most this many spans. */
  maxExportBatchSize: 512,
  /**
   * Spans held while an export is slow or its receiver is gone; beyond this they are dropped, never
   * allowed to grow the heap. At a few hundred requests a second and 3-6 spans each, many seconds' worth.
   */
  maxQueueSize: 8_192,
  /** One OTLP request may take this long before it counts as failed. */
  exportTimeoutMs: 5_000,
  /** On SIGTERM the pending spans get this long to leave; a dead receiver must not hold the exit. */
  shutdownTimeoutMs: 2_000,
} as const;

type Env = Readonly<Record<string, string | undefined>>;

export interface TracingOptions {
  /** The resource's `service.name`: the service's SERVICE_NAME. */
  readonly serviceName: string;
  /**
   * Base URL of an OTLP/HTTP receiver (OTEL_EXPORTER_OTLP_ENDPOINT); spans are POSTed as JSON to
   * `<endpoint>/v1/traces`. Without it (and without `spanProcessors`) tracing is off.
   */
  readonly endpoint?: string | undefined;
  /** The batch delay (OTEL_BSP_SCHEDULE_DELAY); {@link TRACING_DEFAULTS} when unset. */
  readonly scheduledDelayMs?: number | undefined;
  /** Replace the OTLP exporter, e.g. a SimpleSpanProcessor over an InMemorySpanExporter in a test. */
  readonly spanProcessors?: readonly SpanProcessor[] | undefined;
  /** Where failed exports are reported (throttled); silent without it. */
  readonly log?: Logger | undefined;
}

export interface ServiceTracing {
  /** False when tracing is off: no spans, no exporter, no cost. */
  readonly enabled: boolean;
  /** Where spans are sent, `undefined` when they are not sent over OTLP. */
  readonly exportUrl: string | undefined;
  /** Sends the pending spans now. */
  forceFlush(): Promise<void>;
  /** Sends the pending spans and stops, within `timeoutMs`; never rejects; safe to call twice. */
  shutdown(timeoutMs?: number): Promise<void>;
}

const TRACING_OFF: ServiceTracing = {
  enabled: false,
  exportUrl: undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

/**
 * Reads OTEL_EXPORTER_OTLP_ENDPOINT (an http(s) base URL; unset or empty: tracing off) and
 * OTEL_BSP_SCHEDULE_DELAY (milliseconds). Throws ConfigError naming the variable for a malformed value.
 *
 * @example
 *   tracingOptionsFromEnv('payment-service', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
 *   // { serviceName: 'payment-service', endpoint: 'http://127.0.0.1:4318', scheduledDelayMs: undefined }
 */
export function tracingOptionsFromEnv(serviceName: string, env: Env): TracingOptions {
  const endpoint = readString(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (endpoint !== undefined) {
    let protocol: string | undefined;
    try {
      protocol = new URL(endpoint).protocol;
    } catch {
      protocol = undefined;
    }
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new ConfigError(
        `OTEL_EXPORTER_OTLP_ENDPOINT must be the http(s) base URL of an OTLP/HTTP receiver, e.g. http://127.0.0.1:4318 (spans go to <url>/v1/traces), got "${endpoint}"; unset it to turn tracing off`,
      );
    }
  }
  return {
    serviceName,
    endpoint,
    scheduledDelayMs: readInteger(env, 'OTEL_BSP_SCHEDULE_DELAY', { min: 0, max: 600_000 }),
  };
}

/**
 * `<endpoint>/v1/traces`, as the OTLP specification builds a signal's URL from OTEL_EXPORTER_OTLP_ENDPOINT.
 *
 * @example
 *   otlpTracesUrl('http://collector:4318/'); // 'http://collector:4318/v1/traces'
 */
export function otlpTracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

let contextManagerInstalled = false;

/**
 * Turns tracing on for one service in this process: its server spans (services/http/http-server.ts) and
 * every span below them get a TracerProvider whose resource says `service.name`, sampled parent-based and
 * always on, exported in batches over OTLP/HTTP JSON. Without an endpoint or span processors it returns a
 * tracing that is off and installs nothing.
 *
 * @example
 *   const tracing = await startTracing({ ...tracingOptionsFromEnv('monolith', process.env), log });
 *   // ... serve ...
 *   await tracing.shutdown(); // flushes what is pending
 */
export async function startTracing(options: TracingOptions): Promise<ServiceTracing> {
  const exportUrl = options.endpoint === undefined ? undefined : otlpTracesUrl(options.endpoint);
  if (exportUrl === undefined && (options.spanProcessors ?? []).length === 0) return TRACING_OFF;

  // Loaded here, not at the top: together they cost about 0.25 s of CPU at start-up (measured), which
  // every service start (and restart after a crash fault) would otherwise pay with tracing off.
  const [hooks, core, sdk, resources, otlp] = await Promise.all([
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/resources'),
    exportUrl === undefined ? undefined : import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (exportUrl !== undefined && otlp !== undefined) {
    const exporter: OTLPTraceExporter = new otlp.OTLPTraceExporter({
      url: exportUrl,
      timeoutMillis: TRACING_DEFAULTS.exportTimeoutMs,
    });
    processors.push(
      new sdk.BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: options.scheduledDelayMs ?? TRACING_DEFAULTS.scheduledDelayMs,
        maxExportBatchSize: TRACING_DEFAULTS.maxExportBatchSize,
        maxQueueSize: TRACING_DEFAULTS.maxQueueSize,
        exportTimeoutMillis: TRACING_DEFAULTS.exportTimeoutMs,
      }),
    );
  }

  if (!contextManagerInstalled) {
    // Spans find their parent through AsyncLocalStorage; false means another one is installed already
    // (a test's), which serves as well.
    const contextManager: AsyncLocalStorageContextManager = new hooks.AsyncLocalStorageContextManager();
    context.setGlobalContextManager(contextManager.enable());
    contextManagerInstalled = true;
  }
  const log = options.log;
  if (log !== undefined) {
    core.setGlobalErrorHandler((error) =>
      log.throttled('trace_export_failed', { message: describe(error), exportUrl }),
    );
  }
  const resource: Resource = resources.resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName });
  const provider: TracerProvider = new sdk.TracerProvider({
    resource,
    sampler: new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    spanProcessors: processors,
  });
  const propagator: W3CTraceContextPropagator = new core.W3CTraceContextPropagator();
  const tracer = provider.getTracer('splitlab-services');
  registerServiceTracer(options.serviceName, tracer, propagator);

  let stopping: Promise<void> | undefined;
  return {
    enabled: true,
    exportUrl,
    forceFlush: () => provider.forceFlush(),
    shutdown(timeoutMs = TRACING_DEFAULTS.shutdownTimeoutMs) {
      stopping ??= (async () => {
        unregisterServiceTracer(options.serviceName, tracer);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          provider.shutdown().catch((error: unknown) => {
            log?.info('trace_flush_failed', { message: describe(error), exportUrl });
          }),
          new Promise<void>((resolve) => {
            timer = setTimeout(() => {
              log?.info('trace_flush_timed_out', { timeoutMs, exportUrl });
              resolve();
            }, timeoutMs);
            timer.unref();
          }),
        ]);
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}
