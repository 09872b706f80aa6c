/**
 * The runtime carries traces and keeps service logs, on the real stack (either runtime): every service
 * exports its spans to the lab's collector, a `traceparent` the lab sends reaches both split services,
 * and what the services write to stderr is kept for the deployment's life, across a crash and restart.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { applyFault } from '../../lab/runtime/apply-fault.ts';
import type { StartedDeployment, StartedLab } from '../../lab/runtime/runtime.ts';
import { crash, outage } from '../../lab/vocabulary/faults.ts';
import { checkoutBody, post, startTestLab, TEST_RUNTIME } from './support/lab.ts';

let lab: StartedLab;
let split: StartedDeployment;

beforeAll(async () => {
  lab = await startTestLab();
  split = await lab.startDeployment('split');
});

afterAll(async () => {
  await lab?.stop();
});

/** A checkout sent as the child of a span the test made up, as the load generator sends each request. */
async function tracedCheckout(): Promise<{ traceId: string; parentSpanId: string; status: number | null }> {
  const traceId = randomBytes(16).toString('hex');
  const parentSpanId = randomBytes(8).toString('hex');
  const request = checkoutBody();
  const response = await post(split.routeUrl('checkout'), request.body, {
    ...request.headers,
    traceparent: `00-${traceId}-${parentSpanId}-01`,
  });
  return { traceId, parentSpanId, status: response.status };
}

describe('traces', () => {
  it('collects where the services can reach it', () => {
    // The lab's own collector is on its loopback; on containers the services export to the trace
    // relay on the lab's Docker network (never a loopback: that would be each container's own), and
    // the lab moves the relay's batches into its collector.
    expect(new URL(lab.traces.endpoint).hostname).toBe('127.0.0.1');
    if (TEST_RUNTIME === 'containers')
      expect(lab.details.traces).toMatch(/trace relay http:\/\/(?!127\.)\d+\.\d+\.\d+\.\d+:4318;/);
  });

  it("holds a split checkout's spans from both services under the trace id the lab sent", async () => {
    const { traceId, parentSpanId, status } = await tracedCheckout();
    expect(status).toBe(201);
    await lab.traces.settle();
    const spans = lab.traces.trace(traceId);
    expect(new Set(spans.map((span) => span.service))).toEqual(
      new Set(['signup-service', 'payment-service']),
    );
    expect(spans.every((span) => span.traceId === traceId)).toBe(true);
    // The edge request is the child of the span the lab named in its traceparent ...
    const checkout = spans.find((span) => span.kind === 'server' && span.service === 'signup-service');
    expect(checkout).toMatchObject({ name: 'POST /checkout', parentSpanId });
    expect(checkout?.status).not.toBe('error');
    // ... and payment-service's request is the child of signup-service's attempt to call it.
    const charge = spans.find((span) => span.kind === 'server' && span.service === 'payment-service');
    const attempt = spans.find((span) => span.spanId === charge?.parentSpanId);
    expect(attempt).toMatchObject({ service: 'signup-service', kind: 'client' });
  });
});

describe('service logs', () => {
  it('keeps every stderr line of a service across a crash and restart, and after the stop', async () => {
    // Idle database connections for the outage to cut: the pool logs the first one that dies.
    expect((await tracedCheckout()).status).toBe(201);
    const heal = await applyFault(split, outage('payment-db'));
    try {
      await vi.waitFor(() => expect(eventsOf('payment-service')).toContain('database_pool_error'), {
        timeout: 10_000,
        interval: 100,
      });
    } finally {
      await heal();
    }
    // The crash's undo starts payment-service again and waits until it is healthy.
    const restart = await applyFault(split, crash('payment-service'));
    await restart();
    expect((await tracedCheckout()).status).toBe(201);
    await split.stop();
    // The restarted process said goodbye in the same log the crashed one wrote in.
    expect(eventsOf('payment-service')).toEqual(expect.arrayContaining(['database_pool_error', 'stopping']));
    expect(eventsOf('signup-service')).toContain('stopping');
    expect(split.droppedLogLines()).toEqual({ 'payment-service': 0, 'signup-service': 0 });
    // Kept raw, as the services wrote them: one JSON object per line, each once (the follow after the
    // restart starts from the second of the last line kept; each line carries its millisecond time).
    const lines = split.serviceLogs().map((logged) => logged.line);
    expect(lines.filter((line) => !isJson(line))).toEqual([]);
    expect(lines.filter((line, index) => lines.indexOf(line) !== index)).toEqual([]);
  });
});

/** The `event` of each JSON line the service wrote, in order; lines that are no JSON as `unparsed`. */
function eventsOf(service: string): string[] {
  return split
    .serviceLogs()
    .filter((logged) => logged.service === service)
    .map((logged) => {
      try {
        return String((JSON.parse(logged.line) as { event?: unknown }).event);
      } catch {
        return 'unparsed';
      }
    });
}

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
