import { describe, expect, it } from 'vitest';
import { dueTimeS, streamSchedule } from '../../lab/load/due-times.ts';
import {
  clockOffsetOf,
  describeContainerState,
  generatorTimelineZero,
  ndjsonSplitter,
  parseGeneratorLine,
} from '../../lab/runtime/containers/generator-container.ts';

describe('clockOffsetOf', () => {
  it('takes the middle of the shortest round trip as the moment the generator read its clock', () => {
    const offset = clockOffsetOf([
      { sentAtMs: 100, generatorNowMs: 5_020, receivedAtMs: 140 },
      { sentAtMs: 200, generatorNowMs: 5_101, receivedAtMs: 202 },
      { sentAtMs: 300, generatorNowMs: 5_230, receivedAtMs: 310 },
    ]);
    expect(offset).toEqual({ offsetMs: 4_900, roundTripMs: 2 });
  });

  it('is wrong by at most half the round trip however the delay is split between the two directions', () => {
    const trueOffsetMs = 1_234.5;
    for (const outboundShare of [0, 0.25, 0.5, 1]) {
      const sentAtMs = 50;
      const roundTripMs = 8;
      const generatorNowMs = sentAtMs + outboundShare * roundTripMs + trueOffsetMs;
      const { offsetMs } = clockOffsetOf([
        { sentAtMs, generatorNowMs, receivedAtMs: sentAtMs + roundTripMs },
      ]);
      expect(Math.abs(offsetMs - trueOffsetMs)).toBeLessThanOrEqual(roundTripMs / 2);
    }
  });

  it('refuses to guess without a sample', () => {
    expect(() => clockOffsetOf([])).toThrow(/no clock sample/);
  });
});

describe('generatorTimelineZero', () => {
  it("puts the lab's t = 0 on the generator's clock, so the generator's due times are the lab's own", () => {
    // The lab started its timeline at 1,000 on its clock; the generator's clock is 4,900 ahead.
    const zero = generatorTimelineZero(1_000, 4_900);
    expect(zero).toBe(5_900);
    // A request due at 10 s of the timeline is sent at the same instant on both clocks.
    const dueAtS = dueTimeS(streamSchedule({ ratePerSecond: 8 }, 40), 80);
    expect(dueAtS).toBe(10);
    expect(zero + dueAtS * 1000 - 4_900).toBe(1_000 + dueAtS * 1000);
  });
});

describe('ndjsonSplitter', () => {
  it('returns each line once it is complete, across chunk boundaries, and skips empty lines', () => {
    const split = ndjsonSplitter();
    expect(split('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(split(':2}')).toEqual([]);
    expect(split('\n\n{"c":3}\n')).toEqual(['{"b":2}', '{"c":3}']);
  });
});

describe('parseGeneratorLine', () => {
  const outcome = {
    route: 'pay',
    dueAtS: 1.25,
    stream: 0,
    sendLagMs: 0.3,
    latencyMs: 2.1,
    ok: false,
    cause: 'http_404',
    status: 404,
    idempotencyKey: 'pay-r1s0-5',
  };

  it('passes an outcome through as it is', () => {
    expect(parseGeneratorLine(JSON.stringify(outcome))).toEqual(outcome);
  });

  it('tells the control lines apart by their key', () => {
    expect(parseGeneratorLine('{"run":"ab12"}')).toEqual({ run: 'ab12' });
    expect(parseGeneratorLine('{"inFlight":{"pay":3}}')).toEqual({ inFlight: { pay: 3 } });
    expect(parseGeneratorLine('{"done":true}')).toEqual({ done: true });
    expect(parseGeneratorLine('{"error":{"code":"USAGE","message":"too large"}}')).toEqual({
      error: { code: 'USAGE', message: 'too large' },
    });
  });

  it('refuses a line that is none of them rather than guess', () => {
    expect(() => parseGeneratorLine(JSON.stringify({ ...outcome, route: 'refund' }))).toThrow();
    expect(() => parseGeneratorLine('{"inFlight":{"pay":"three"}}')).toThrow();
    expect(() => parseGeneratorLine('not json')).toThrow();
  });
});

describe('describeContainerState', () => {
  it('says whether the generator container died and why', () => {
    expect(describeContainerState({ Status: 'exited', ExitCode: 137, OOMKilled: true })).toBe(
      'the container has exited (exit code 137, killed for lack of memory)',
    );
    expect(describeContainerState({ Status: 'running' })).toBe('the container is still running');
    expect(describeContainerState({ Status: 'dead', ExitCode: 1 })).toBe(
      'the container is dead (exit code 1)',
    );
  });
});
