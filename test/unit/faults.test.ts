import { describe, expect, it } from 'vitest';
import {
  bandwidth,
  crash,
  dbLatency,
  dbOutage,
  deploy,
  describeFault,
  dnsFailure,
  FAULT_KINDS,
  faultTarget,
  flood,
  isLinkFault,
  latency,
  limitData,
  LINK_FAULT_KINDS,
  outage,
  partition,
  planToxiproxy,
  reset,
  resolveFault,
  slicer,
  slowClose,
  stall,
  type Fault,
  type LinkFault,
} from '../../lab/vocabulary/faults.ts';

/** One fault of every kind, made with the public factories. */
const LINK_FAULTS: LinkFault[] = [
  latency('payment-api', { ms: 100 }),
  partition('payment-api'),
  outage('payment-api'),
  reset('payment-api', { afterMs: 10 }),
  bandwidth('payment-api', { kilobytesPerSecond: 8 }),
  slowClose('payment-api', { delayMs: 500 }),
  slicer('payment-api', { averageBytes: 10 }),
  limitData('payment-api', { bytes: 1000 }),
];
const OTHER_FAULTS: Fault[] = [
  dnsFailure('payment-service', 'nxdomain'),
  crash('payment-service'),
  stall('payment-service'),
  deploy('payment-service', { version: 'v2' }),
  dbOutage('payment'),
  dbLatency('payment', { ms: 40 }),
  flood('signup', { ratePerSecond: 50 }),
];

describe('fault vocabulary', () => {
  it('turns a partition into timeout-0 toxics on both streams', () => {
    expect(planToxiproxy(partition('payment-api'))).toEqual({
      action: 'toxics',
      toxics: [
        { type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } },
        { type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } },
      ],
    });
  });

  it('can partition one direction only', () => {
    const plan = planToxiproxy(partition('payment-api', { direction: 'upstream' }));
    expect(plan.action === 'toxics' && plan.toxics.map((toxic) => toxic.stream)).toEqual(['upstream']);
  });

  it('turns an outage into a disabled proxy', () => {
    expect(planToxiproxy(outage('edge-payment'))).toEqual({ action: 'disable' });
  });

  it('keeps latency and jitter in milliseconds and slicer delay in microseconds', () => {
    expect(planToxiproxy(latency('payment-api', { ms: 200, jitterMs: 20 }))).toEqual({
      action: 'toxics',
      toxics: [{ type: 'latency', stream: 'downstream', attributes: { latency: 200, jitter: 20 } }],
    });
    const plan = planToxiproxy(slicer('payment-api', { averageBytes: 10, delayMicros: 500 }));
    expect(plan.action === 'toxics' && plan.toxics[0]?.attributes).toEqual({
      average_size: 10,
      size_variation: 0,
      delay: 500,
    });
  });

  it('describes faults with the link name', () => {
    expect(describeFault(partition('payment-api'))).toContain('payment-api');
    expect(describeFault(latency('signup-db', { ms: 50, jitterMs: 5 }))).toBe(
      '+50 ms ± 5 ms (downstream) on signup-db',
    );
  });
});

describe('resolveFault', () => {
  it('applies a link fault only to the deployment that has the link', () => {
    expect(resolveFault(partition('payment-api'), 'monolith')).toEqual([]);
    expect(resolveFault(partition('payment-api'), 'split')).toEqual([
      { type: 'link', fault: partition('payment-api') },
    ]);
  });

  it('takes the one monolith database down for either domain, but only that domain in split', () => {
    expect(resolveFault(dbOutage('payment'), 'monolith')).toEqual([
      { type: 'link', fault: outage('monolith-db') },
    ]);
    expect(resolveFault(dbOutage('signup'), 'monolith')).toEqual([
      { type: 'link', fault: outage('monolith-db') },
    ]);
    expect(resolveFault(dbOutage('payment'), 'split')).toEqual([
      { type: 'link', fault: outage('payment-db') },
    ]);
    expect(
      resolveFault(dbOutage('split'), 'split').map((action) => action.type === 'link' && action.fault.link),
    ).toEqual(['signup-db', 'payment-db']);
    expect(resolveFault(dbOutage('split'), 'monolith')).toEqual([]);
  });

  it('turns database latency into a latency toxic on the database link', () => {
    expect(resolveFault(dbLatency('signup', { ms: 40 }), 'split')).toEqual([
      { type: 'link', fault: latency('signup-db', { ms: 40 }) },
    ]);
  });

  it('crashes only a service the deployment runs', () => {
    expect(resolveFault(crash('signup-service'), 'split')).toEqual([
      { type: 'crash', service: 'signup-service' },
    ]);
    expect(resolveFault(crash('signup-service'), 'monolith')).toEqual([]);
    expect(resolveFault(crash('monolith'), 'monolith')).toEqual([{ type: 'crash', service: 'monolith' }]);
  });

  it('fails DNS only where names are resolved (split), and floods everywhere', () => {
    expect(resolveFault(dnsFailure('payment-service', 'nxdomain'), 'monolith')).toEqual([]);
    expect(resolveFault(dnsFailure('payment-service', 'timeout'), 'split')).toEqual([
      { type: 'dns', name: 'payment-service', mode: 'timeout' },
    ]);
    expect(resolveFault(flood('signup', { ratePerSecond: 50 }), 'monolith')).toEqual([
      { type: 'flood', route: 'signup', load: { model: 'open', ratePerSecond: 50 } },
    ]);
    expect(resolveFault(flood('signup', { connections: 16 }), 'split')).toEqual([
      { type: 'flood', route: 'signup', load: { model: 'closed', connections: 16 } },
    ]);
  });

  it('deploys and stalls a service only in the deployment that runs it; a deploy keeps its version', () => {
    expect(resolveFault(deploy('payment-service', { version: 'v2' }), 'monolith')).toEqual([]);
    expect(resolveFault(deploy('payment-service', { version: 'v2' }), 'split')).toEqual([
      { type: 'deploy', service: 'payment-service', version: 'v2', drainMs: 10_000 },
    ]);
    expect(resolveFault(deploy('modular', { drainMs: 500 }), 'modular')).toEqual([
      { type: 'deploy', service: 'modular', drainMs: 500 },
    ]);
    expect(resolveFault(stall('monolith'), 'monolith')).toEqual([{ type: 'stall', service: 'monolith' }]);
    expect(resolveFault(stall('monolith'), 'split')).toEqual([]);
  });

  it('takes the modular monolith down whole for either domain: one server, one path', () => {
    for (const target of ['payment', 'signup', 'modular'] as const) {
      expect(resolveFault(dbOutage(target), 'modular')).toEqual([
        { type: 'link', fault: { kind: 'outage', link: 'modular-db' } },
      ]);
    }
    expect(resolveFault(dbOutage('monolith'), 'modular')).toEqual([]);
  });

  it('names the target of every fault for the report', () => {
    expect(faultTarget(dnsFailure('payment-service', 'servfail'))).toBe('payment-service (DNS)');
    expect(faultTarget(crash('monolith'))).toBe('monolith');
    expect(faultTarget(flood('signup', { ratePerSecond: 5 }))).toBe('signup route');
    expect(describeFault(dbOutage('payment'))).toBe('payment database link down');
  });
});

describe('fault kinds', () => {
  it('lists every kind once, the link faults first', () => {
    expect(FAULT_KINDS).toEqual([...LINK_FAULTS, ...OTHER_FAULTS].map((fault) => fault.kind));
    expect(LINK_FAULT_KINDS).toEqual(LINK_FAULTS.map((fault) => fault.kind));
  });

  it('tells link faults from the others', () => {
    expect(LINK_FAULTS.every(isLinkFault)).toBe(true);
    expect(OTHER_FAULTS.some(isLinkFault)).toBe(false);
  });

  it('aims every link fault at its link, and plans it as toxics or a disabled proxy', () => {
    for (const fault of LINK_FAULTS) {
      expect(faultTarget(fault)).toBe('payment-api');
      expect(describeFault(fault)).toContain('payment-api');
      const plan = planToxiproxy(fault);
      expect(plan.action === 'disable' || plan.toxics.length > 0).toBe(true);
    }
  });

  it('plans the connection-level toxics on the stream back to the caller', () => {
    expect(planToxiproxy(reset('payment-api', { afterMs: 10 }))).toEqual({
      action: 'toxics',
      toxics: [{ type: 'reset_peer', stream: 'downstream', attributes: { timeout: 10 } }],
    });
    expect(planToxiproxy(limitData('payment-api', { bytes: 1000 }))).toEqual({
      action: 'toxics',
      toxics: [{ type: 'limit_data', stream: 'downstream', attributes: { bytes: 1000 } }],
    });
    expect(planToxiproxy(slowClose('payment-api', { delayMs: 500 }))).toEqual({
      action: 'toxics',
      toxics: [{ type: 'slow_close', stream: 'downstream', attributes: { delay: 500 } }],
    });
  });
});
