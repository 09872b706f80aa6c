import { setTimeout as sleep } from 'node:timers/promises';

export interface TraceRelayPump {
  /** Batches moved from the relay to the lab's collector so far. */
  batches(): number;
  /** Fetches what the relay still holds (up to `drainMs`), then stops: the services' last spans land. */
  stop(drainMs?: number): Promise<void>;
}

/** A failed fetch is retried after this long; the watchdog, not the pump, decides the relay is dead. */
const RETRY_MS = 200;

/**
 * Moves each batch of spans from the trace relay container (lab/agent/trace-relay-main.ts) to the lab's
 * own collector, as it came (body, content type and encoding): the collector decodes, keeps and forwards
 * it exactly as if the services had posted it themselves.
 *
 * @example
 *   const pump = pumpTraceRelay({ relayUrl: 'http://10.231.0.2:32770', collectorEndpoint: traces.endpoint });
 *   // ... the run ...
 *   await pump.stop();
 */
export function pumpTraceRelay(options: { relayUrl: string; collectorEndpoint: string }): TraceRelayPump {
  let after = 0;
  let moved = 0;
  let stopping = false;
  let drainedAt: number | undefined;
  const abort = new AbortController();

  const moveOne = async (): Promise<boolean> => {
    const response = await fetch(`${options.relayUrl}/batches/next?after=${after}`, {
      signal: AbortSignal.any([abort.signal, AbortSignal.timeout(5_000)]),
    });
    if (response.status === 204) {
      await response.body?.cancel();
      return false;
    }
    if (!response.ok) throw new Error(`the trace relay answered ${response.status}`);
    const seq = Number(response.headers.get('x-batch-seq'));
    const body = new Uint8Array(await response.arrayBuffer());
    const headers: Record<string, string> = {
      'content-type': response.headers.get('content-type') ?? 'application/json',
    };
    // fetch has already decoded a gzip body; the collector gets it plain.
    const posted = await fetch(`${options.collectorEndpoint}/v1/traces`, { method: 'POST', headers, body });
    await posted.arrayBuffer();
    after = seq;
    moved += 1;
    return true;
  };

  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        const movedOne = await moveOne();
        if (!movedOne && stopping) return;
      } catch {
        if (abort.signal.aborted || (stopping && drainedAt !== undefined && performance.now() > drainedAt))
          return;
        await sleep(RETRY_MS);
      }
    }
  })();

  return {
    batches: () => moved,
    stop: async (drainMs = 3_000) => {
      stopping = true;
      drainedAt = performance.now() + drainMs;
      const timer = setTimeout(() => abort.abort(), drainMs);
      await loop;
      clearTimeout(timer);
    },
  };
}
