import { describe, expect, it } from 'vitest';
import type { ServiceSample } from '../../lab/results.ts';
import { summarizeServicePhases } from '../../lab/measure/service-phases.ts';

const sample = (t: number, values: Partial<ServiceSample>): ServiceSample => ({
  t,
  eventLoopDelayP99Ms: 1,
  requestsInFlight: 0,
  outboundInFlight: 0,
  ...values,
});

describe('summarizeServicePhases', () => {
  const phases = [
    { name: 'calm', startS: 0, endS: 2 },
    { name: 'slow', startS: 2, endS: 4 },
  ];
  const samples = [
    sample(0.1, {
      requestsTotal: 0,
      outboundCallsTotal: 0,
      outboundAttemptsTotal: 0,
      circuitState: 'closed',
    }),
    sample(1.1, {
      requestsTotal: 10,
      outboundCallsTotal: 5,
      outboundAttemptsTotal: 5,
      circuitState: 'closed',
    }),
    sample(2.1, {
      requestsTotal: 20,
      outboundCallsTotal: 10,
      outboundAttemptsTotal: 10,
      circuitState: 'open',
    }),
    sample(3.1, {
      requestsTotal: 30,
      outboundCallsTotal: 15,
      outboundAttemptsTotal: 25,
      circuitState: 'halfOpen',
    }),
    sample(4.1, {
      requestsTotal: 40,
      outboundCallsTotal: 20,
      outboundAttemptsTotal: 40,
      circuitState: 'closed',
    }),
  ];

  it('derives load, retry amplification and circuit states per phase from cumulative counters', () => {
    const [calm, slow] = summarizeServicePhases([{ service: 'signup-service', samples }], phases);
    expect(calm).toMatchObject({ phase: 'calm', requestsPerSecond: 10, attemptsPerCall: 1 });
    expect(slow).toMatchObject({ phase: 'slow', requestsPerSecond: 10, attemptsPerCall: 3 });
    expect(slow?.circuitStates).toEqual(['open', 'halfOpen']);
  });

  it('gives null, not a negative number, when a restart reset the counters', () => {
    const restarted = [
      ...samples.slice(0, 3),
      sample(3.1, { requestsTotal: 2 }),
      sample(4.1, { requestsTotal: 4 }),
    ];
    const [, slow] = summarizeServicePhases([{ service: 'monolith', samples: restarted }], phases);
    expect(slow?.requestsPerSecond).toBeNull();
    expect(slow?.attemptsPerCall).toBeNull();
  });
});
