import { describe, expect, it } from 'vitest';
import type { RequestOutcome } from '../../lab/load/outcome.ts';
import {
  describeAction,
  evidenceEntry,
  floodEvidence,
  observeAction,
} from '../../lab/measure/fault-evidence.ts';
import type { ActionObservation, RuntimeAction } from '../../lab/runtime/runtime.ts';
import { latency, outage, partition } from '../../lab/vocabulary/faults.ts';

describe('describeAction', () => {
  it('says in a few words what each kind of action does', () => {
    expect(describeAction({ type: 'link', fault: partition('payment-api') })).toBe(
      'timeout toxics on payment-api',
    );
    expect(describeAction({ type: 'link', fault: latency('payment-db', { ms: 50 }) })).toBe(
      'latency toxics on payment-db',
    );
    expect(describeAction({ type: 'link', fault: outage('signup-db') })).toBe('proxy signup-db disabled');
    expect(describeAction({ type: 'dns', name: 'payment-service', mode: 'nxdomain' })).toBe(
      'DNS payment-service: nxdomain',
    );
    expect(describeAction({ type: 'crash', service: 'signup-service' })).toBe('kill signup-service');
    expect(describeAction({ type: 'stall', service: 'payment-service' })).toBe('freeze payment-service');
    expect(describeAction({ type: 'deploy', service: 'payment-service', version: 'v2', drainMs: 5000 })).toBe(
      'deploy payment-service v2 (drain up to 5 s)',
    );
    expect(describeAction({ type: 'flood', route: 'pay', load: { model: 'open', ratePerSecond: 120 } })).toBe(
      'flood on pay: +120/s',
    );
    expect(describeAction({ type: 'flood', route: 'pay', load: { model: 'closed', connections: 8 } })).toBe(
      'flood on pay: 8 connections (closed)',
    );
  });
});

/** A fake clock and a runtime whose reads return `reads` in turn (the last one forever). */
function fakeReads(reads: (Omit<ActionObservation, 'atMs'> | Error)[]) {
  let nowMs = 1000;
  let index = 0;
  const observed: number[] = [];
  return {
    clock: {
      now: () => nowMs,
      sleep: async (ms: number) => void (nowMs += ms),
    },
    runtime: {
      observe: async (): Promise<ActionObservation> => {
        observed.push(nowMs);
        const read = reads[Math.min(index++, reads.length - 1)];
        if (!read) throw new Error('no read');
        if (read instanceof Error) throw read;
        return { atMs: nowMs + 1, ...read };
      },
    },
    observed,
  };
}

const action: RuntimeAction = { type: 'link', fault: partition('payment-api') };

describe('observeAction', () => {
  it('reads until the state shows the action in effect, every 50 ms', async () => {
    const fake = fakeReads([
      { inEffect: false, evidence: 'no toxics' },
      new Error('fetch failed'),
      { inEffect: true, evidence: 'toxics timeout/upstream, timeout/downstream' },
    ]);
    expect(await observeAction(fake.runtime, action, true, fake.clock)).toEqual({
      expected: true,
      atMs: 1101,
      evidence: 'toxics timeout/upstream, timeout/downstream',
    });
    expect(fake.observed).toEqual([1000, 1050, 1100]);
  });

  it('gives up after 2 s with the last thing it read', async () => {
    const fake = fakeReads([{ inEffect: true, evidence: 'toxics timeout/upstream' }]);
    // After an undo the action should be gone; it never is.
    const state = await observeAction(fake.runtime, action, false, fake.clock);
    expect(state).toMatchObject({ expected: false, evidence: 'toxics timeout/upstream' });
    expect(fake.observed).toHaveLength(41);
    expect(fake.observed.at(-1)).toBe(3000);
  });

  it('expects a deploy to stay in effect after its undo: the new version runs on', async () => {
    const fake = fakeReads([{ inEffect: true, evidence: 'payment-service: /healthz HTTP 200, version v2' }]);
    const deployed: RuntimeAction = {
      type: 'deploy',
      service: 'payment-service',
      version: 'v2',
      drainMs: 10_000,
    };
    expect(await observeAction(fake.runtime, deployed, false, fake.clock)).toMatchObject({ expected: true });
    expect(fake.observed).toEqual([1000]);
  });

  it('keeps the message of a read that failed as the evidence', async () => {
    const fake = fakeReads([new Error('connect ECONNREFUSED 127.0.0.1:8474')]);
    expect(await observeAction(fake.runtime, action, true, fake.clock)).toEqual({
      expected: false,
      atMs: null,
      evidence: 'read failed: connect ECONNREFUSED 127.0.0.1:8474',
    });
  });
});

describe('evidenceEntry', () => {
  it('times the observation from the timeline’s t = 0, lag from the planned time', () => {
    const planned = {
      phase: 'storm',
      fault: 'partitioned',
      action: 'timeout toxics on payment-api',
      plannedAtS: 10,
    };
    expect(evidenceEntry('apply', planned, { expected: true, atMs: 15_012.34, evidence: 'x' }, 5000)).toEqual(
      {
        ...planned,
        step: 'apply',
        observedAtS: 10.012,
        lagMs: 12.3,
        observed: true,
        evidence: 'x',
      },
    );
    expect(
      evidenceEntry('undo', planned, { expected: false, atMs: 15_100, evidence: 'y' }, 5000),
    ).toMatchObject({
      observedAtS: null,
      lagMs: null,
      observed: false,
    });
  });
});

describe('floodEvidence', () => {
  const window = { name: 'storm', startS: 10, endS: 15 };
  const flood = {
    phase: 'storm',
    fault: 'flood: +30 requests/s on signup',
    route: 'signup' as const,
    ratePerSecond: 30,
    window,
  };
  /** The flood's requests (stream 3), the first `sent` of its 150 sent 2 ms late, the rest held back. */
  const floodOutcomes = (sent: number, heldBack = 0): RequestOutcome[] =>
    Array.from({ length: sent + heldBack }, (_, k) => ({
      route: 'signup' as const,
      dueAtS: 10 + k / 30,
      stream: 3,
      sendLagMs: 2,
      latencyMs: 30,
      ok: k < sent,
      cause: k < sent ? '' : 'generator_limit',
      status: k < sent ? 201 : null,
    }));
  const steady: RequestOutcome = { ...floodOutcomes(1)[0]!, stream: 0, dueAtS: 20 };

  it('observes the flood when at least 90 % of its due requests went out, timed by the first and last sends', () => {
    const entries = floodEvidence(flood, 3, [...floodOutcomes(136), steady], 30, null);
    expect(entries).toEqual([
      {
        phase: 'storm',
        fault: 'flood: +30 requests/s on signup',
        action: 'flood on signup: +30/s',
        step: 'apply',
        plannedAtS: 10,
        observedAtS: 10.002,
        lagMs: 2,
        observed: true,
        evidence: '136 of 150 due requests sent; the first at t=10.002 s',
      },
      {
        phase: 'storm',
        fault: 'flood: +30 requests/s on signup',
        action: 'flood on signup: +30/s',
        step: 'undo',
        plannedAtS: 15,
        observedAtS: 14.502,
        lagMs: -498,
        observed: true,
        evidence: 'the last flood request was sent at t=14.502 s, none after',
      },
    ]);
  });

  it('does not observe a flood that sent less than 90 % of its due requests', () => {
    const [apply] = floodEvidence(flood, 3, floodOutcomes(134), 30, null);
    expect(apply).toMatchObject({
      observed: false,
      observedAtS: null,
      evidence: '134 of 150 due requests sent; the first at t=10.002 s',
    });
  });

  it('counts requests held back at the in-flight limit as the flood pressing', () => {
    const [apply] = floodEvidence(flood, 3, floodOutcomes(20, 130), 30, null);
    expect(apply).toMatchObject({
      observed: true,
      evidence: '20 of 150 due requests sent, 130 held back at the in-flight limit; the first at t=10.002 s',
    });
  });

  it('observes a closed-model flood by any request it sent, and its end like an open one', () => {
    const closed = { ...flood, load: { model: 'closed' as const, connections: 4 } };
    const entries = floodEvidence(closed, 3, floodOutcomes(12), 30, null);
    expect(entries).toMatchObject([
      {
        step: 'apply',
        action: 'flood on signup: 4 connections (closed)',
        observed: true,
        evidence: '12 requests sent by 4 connections; the first at t=10.002 s',
      },
      { step: 'undo', observed: true },
    ]);
    expect(floodEvidence(closed, 3, [], 30, null)).toMatchObject([{ step: 'apply', observed: false }]);
  });

  it('expects only what was due before an early stop, and no undo then', () => {
    const entries = floodEvidence(flood, 3, floodOutcomes(60), 30, 12);
    expect(entries).toMatchObject([
      { step: 'apply', observed: true, evidence: '60 of 60 due requests sent; the first at t=10.002 s' },
    ]);
  });
});
