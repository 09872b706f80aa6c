import { describe, expect, it } from 'vitest';
import { describeFault, latency, outage, partition, planToxiproxy, slicer } from '../../lab/faults.ts';

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
