/**
 * The lab's in-network parts (lab/agent/*-main.ts) as the containers runtime runs them, here as plain
 * processes on loopback: the DNS server answers real DNS queries and changes its answers through its
 * HTTP control API (lab/runtime/dns-control.ts); the trace relay keeps the batches a real OpenTelemetry
 * exporter posts until the lab's pump moves them into the lab's own collector.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { once } from 'node:events';
import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { pumpTraceRelay } from '../../lab/runtime/containers/trace-relay.ts';
import { controlOverHttp } from '../../lab/runtime/dns-control.ts';
import { findFreePort } from '../../lab/runtime/ports.ts';
import { waitForHealthy } from '../../lab/runtime/health.ts';
import { startTraceCollector } from '../../lab/tracing/trace-collector.ts';

const running: ChildProcess[] = [];
afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});

/** Starts an agent's entry point as the container does, and waits until its /healthz answers. */
async function startAgent(entry: string, env: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [`lab/agent/${entry}`], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.push(child);
  await waitForHealthy([{ name: entry, url: `http://127.0.0.1:${port}/healthz` }], 10_000);
  return child;
}

describe('the DNS agent', () => {
  it('answers DNS as its control API says, counts queries per mode, and stops at once on SIGTERM', async () => {
    const [dnsPort, controlPort] = [await findFreePort(), await findFreePort()];
    const child = await startAgent(
      'dns-main.ts',
      { DNS_PORT: String(dnsPort), CONTROL_PORT: String(controlPort) },
      controlPort,
    );
    const dns = controlOverHttp({
      address: `127.0.0.1:${dnsPort}`,
      controlUrl: `http://127.0.0.1:${controlPort}`,
      where: 'test',
    });
    const resolver = new Resolver({ timeout: 300, tries: 1 });
    resolver.setServers([`127.0.0.1:${dnsPort}`]);

    await dns.setRecord('payment-service', { address: '10.1.2.3', ttlSeconds: 5 });
    expect(await resolver.resolve4('payment-service', { ttl: true })).toEqual([
      { address: '10.1.2.3', ttl: 5 },
    ]);
    expect(await dns.modeOf('payment-service')).toBe('answer');

    await dns.setMode('payment-service', 'nxdomain');
    await expect(resolver.resolve4('payment-service')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await dns.setMode('payment-service', 'servfail');
    await expect(resolver.resolve4('payment-service')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    await dns.setMode('payment-service', 'timeout');
    await expect(resolver.resolve4('payment-service')).rejects.toMatchObject({ code: 'ETIMEOUT' });

    expect(await dns.queriesByMode('payment-service')).toEqual({
      answer: 1,
      nxdomain: 1,
      servfail: 1,
      timeout: 1,
    });
    expect(await dns.queryCount('payment-service')).toBe(4);

    // Bad input is refused with what is wrong, and changes nothing.
    await expect(dns.setRecord('payment-service', { address: 'not-an-address' })).rejects.toThrow(/400/);
    await expect(dns.setMode('nobody', 'nxdomain')).rejects.toThrow(/409.*no record for nobody/);
    expect(await dns.modeOf('payment-service')).toBe('timeout');

    const stoppedAt = performance.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(performance.now() - stoppedAt).toBeLessThan(2_000);
  });
});

describe('the trace relay', () => {
  it('keeps what the services export until the pump moves it, as it came, into the lab collector', async () => {
    const relayPort = await findFreePort();
    await startAgent('trace-relay-main.ts', { PORT: String(relayPort) }, relayPort);
    await using collector = await startTraceCollector();
    const pump = pumpTraceRelay({
      relayUrl: `http://127.0.0.1:${relayPort}`,
      collectorEndpoint: collector.endpoint,
    });

    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'payment-service' }),
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: `http://127.0.0.1:${relayPort}/v1/traces` }),
          scheduledDelayMillis: 50,
        }),
      ],
    });
    const tracer = provider.getTracer('splitlab-test');
    const traceIds = Array.from({ length: 25 }, (_, index) => {
      const span = tracer.startSpan(`POST /charge ${index}`, { kind: SpanKind.SERVER });
      span.end();
      return span.spanContext().traceId;
    });
    await provider.forceFlush();
    await provider.shutdown();
    // The pump's last fetches: everything the relay held reaches the collector before it stops.
    await pump.stop();

    expect(pump.batches()).toBeGreaterThan(0);
    expect(collector.spans()).toHaveLength(25);
    for (const traceId of traceIds) {
      expect(collector.trace(traceId)).toMatchObject([{ service: 'payment-service', kind: 'server' }]);
    }
    const health = (await (await fetch(`http://127.0.0.1:${relayPort}/healthz`)).json()) as {
      refused: number;
    };
    expect(health.refused).toBe(0);
  });
});
