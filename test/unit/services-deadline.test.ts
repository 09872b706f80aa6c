import { describe, expect, it } from 'vitest';
import {
  assertBeforeDeadline,
  DeadlineExceededError,
  deadlineHeaderValue,
  earliestDeadline,
  isExpired,
  parseDeadlineBudget,
  remainingMs,
} from '../../services/runtime/deadline.ts';
import { InvalidFieldError } from '../../services/runtime/fields.ts';

describe('X-Deadline-Ms parsing', () => {
  it('reads whole milliseconds, absent means no deadline', () => {
    expect(parseDeadlineBudget('250')).toBe(250);
    expect(parseDeadlineBudget(' 0 ')).toBe(0);
    expect(parseDeadlineBudget(undefined)).toBeUndefined();
  });

  it.each([['-1'], ['1.5'], ['soon'], [''], ['3600001'], ['1e3']])(
    'rejects %j naming the header',
    (value) => {
      expect(() => parseDeadlineBudget(value)).toThrow(InvalidFieldError);
      try {
        parseDeadlineBudget(value);
      } catch (error) {
        expect((error as InvalidFieldError).field).toBe('X-Deadline-Ms');
      }
    },
  );
});

describe('deadline arithmetic on an injected clock', () => {
  it('rounds the remaining budget down and never below zero', () => {
    expect(remainingMs(1_000.9, 900)).toBe(100);
    expect(remainingMs(1_000, 999.2)).toBe(0);
    expect(remainingMs(900, 1_000)).toBe(0);
  });

  it('treats a budget of 0 as already expired', () => {
    const receivedAt = 10_000;
    const deadline = receivedAt + (parseDeadlineBudget('0') ?? Number.NaN);
    expect(isExpired(deadline, receivedAt)).toBe(true);
    expect(isExpired(undefined, receivedAt)).toBe(false);
    expect(isExpired(receivedAt + 1, receivedAt)).toBe(false);
  });

  it('sends the callee what is left of the budget at send time', () => {
    const callStartedAt = 50_000;
    const deadline = callStartedAt + 5_000;
    // 120 ms were spent hashing and inserting the user before the request went out.
    expect(deadlineHeaderValue(deadline, callStartedAt + 120)).toBe('4880');
    expect(deadlineHeaderValue(deadline, callStartedAt + 6_000)).toBe('0');
  });

  it('never lets an outbound call outlive the inbound request', () => {
    const now = 1_000;
    const inbound = now + 300;
    const perCall = now + 5_000;
    expect(earliestDeadline(perCall, inbound)).toBe(inbound);
    expect(earliestDeadline(perCall, undefined)).toBe(perCall);
    expect(earliestDeadline()).toBeUndefined();
  });

  it('a deadline propagated over two hops shrinks by the time spent in between', () => {
    // Caller: 5000 ms budget, 700 ms spent, sends 4300. Callee receives it at its own clock's 20_000.
    const header = deadlineHeaderValue(5_000, 700);
    const calleeDeadline = 20_000 + (parseDeadlineBudget(header) ?? 0);
    expect(calleeDeadline).toBe(24_300);
    expect(() => assertBeforeDeadline(calleeDeadline, 24_299, 'commit')).not.toThrow();
    expect(() => assertBeforeDeadline(calleeDeadline, 24_300, 'commit')).toThrow(DeadlineExceededError);
  });
});
