import {
  BrokenCircuitError,
  BulkheadRejectedError,
  IsolatedCircuitError,
  TaskCancelledError,
} from 'cockatiel';
import { describe, expect, it } from 'vitest';
import {
  classifyUpstreamFailure,
  isTransientUpstreamFailure,
  statusForUpstreamCause,
  UpstreamStatusError,
} from '../../services/payment/upstream-failure.ts';
import { DeadlineExceededError } from '../../services/runtime/deadline.ts';

/** A fake of the errors Node and undici raise: a message plus the properties the classifier reads. */
function fake(message: string, properties: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), properties);
}

describe('classifyUpstreamFailure', () => {
  it.each([
    [
      'a cockatiel aggressive timeout',
      new TaskCancelledError('Operation timed out after 5000ms'),
      'deadline',
    ],
    ['our own deadline check', new DeadlineExceededError('no budget left'), 'deadline'],
    [
      'an AbortError from our signal',
      new DOMException('This operation was aborted', 'AbortError'),
      'deadline',
    ],
    ['AbortSignal.timeout', new DOMException('The operation timed out', 'TimeoutError'), 'deadline'],
    ['undici RequestAbortedError', fake('Request aborted', { code: 'UND_ERR_ABORTED' }), 'deadline'],
    [
      'ECONNREFUSED',
      fake('connect ECONNREFUSED 127.0.0.1:9', { code: 'ECONNREFUSED', syscall: 'connect' }),
      'refused',
    ],
    ['ECONNRESET', fake('read ECONNRESET', { code: 'ECONNRESET', syscall: 'read' }), 'reset'],
    ['EPIPE', fake('write EPIPE', { code: 'EPIPE', syscall: 'write' }), 'reset'],
    ['undici SocketError (empty reply)', fake('other side closed', { code: 'UND_ERR_SOCKET' }), 'reset'],
    ['"other side closed" without a code', fake('other side closed'), 'reset'],
    ['NXDOMAIN', fake('queryA ENOTFOUND payment-service', { code: 'ENOTFOUND', syscall: 'queryA' }), 'dns'],
    [
      'cacheable-lookup NXDOMAIN',
      fake('cacheableLookup ENOTFOUND payment-service', { code: 'ENOTFOUND' }),
      'dns',
    ],
    ['SERVFAIL', fake('queryA ESERVFAIL payment-service', { code: 'ESERVFAIL', syscall: 'queryA' }), 'dns'],
    [
      'a resolver timeout',
      fake('queryA ETIMEOUT payment-service', { code: 'ETIMEOUT', syscall: 'queryA' }),
      'dns',
    ],
    [
      'EAI_AGAIN',
      fake('getaddrinfo EAI_AGAIN payment-service', { code: 'EAI_AGAIN', syscall: 'getaddrinfo' }),
      'dns',
    ],
    [
      'a DNS server that refuses (ECONNREFUSED from queryA)',
      fake('queryA ECONNREFUSED payment-service', { code: 'ECONNREFUSED', syscall: 'queryA' }),
      'dns',
    ],
    ['an open circuit breaker', new BrokenCircuitError(), 'circuit_open'],
    ['an isolated circuit breaker', new IsolatedCircuitError(), 'circuit_open'],
    ['a full bulkhead', new BulkheadRejectedError(20, 10), 'bulkhead_full'],
    [
      'an open circuit wrapped by our timeout',
      new Error('wrapped', { cause: new BrokenCircuitError() }),
      'circuit_open',
    ],
    ['an unrelated error', new TypeError('x is not a function'), 'unknown'],
    ['a non-error value', 'boom', 'unknown'],
  ])('classifies %s', (_case, error, cause) => {
    expect(classifyUpstreamFailure(error).cause).toBe(cause);
  });

  it('keeps the upstream status for a non-2xx answer', () => {
    const failure = classifyUpstreamFailure(new UpstreamStatusError(503, '{"error":"database unavailable"}'));
    expect(failure).toEqual({
      cause: 'upstream_status',
      status: 503,
      detail: expect.stringContaining('503'),
    });
  });

  it('looks through a cause chain (fetch wraps the socket error)', () => {
    const wrapped = new TypeError('fetch failed', {
      cause: fake('connect ECONNREFUSED', { code: 'ECONNREFUSED' }),
    });
    expect(classifyUpstreamFailure(wrapped).cause).toBe('refused');
  });

  it('looks into an AggregateError (every address of a name failed)', () => {
    const aggregate = new AggregateError([
      fake('connect ECONNREFUSED ::1:9', { code: 'ECONNREFUSED' }),
      fake('connect ECONNREFUSED 127.0.0.1:9', { code: 'ECONNREFUSED' }),
    ]);
    expect(classifyUpstreamFailure(aggregate).cause).toBe('refused');
  });

  it('describes the failure with its code and message, bounded in length', () => {
    const failure = classifyUpstreamFailure(
      fake(`read ECONNRESET ${'x'.repeat(1000)}`, { code: 'ECONNRESET' }),
    );
    expect(failure.detail.startsWith('ECONNRESET: read ECONNRESET')).toBe(true);
    expect(failure.detail.length).toBeLessThanOrEqual(300);
  });

  it('answers 504 for deadline, 503 when our own policy refused, and 502 for everything else', () => {
    expect(statusForUpstreamCause('deadline')).toBe(504);
    expect(statusForUpstreamCause('circuit_open')).toBe(503);
    expect(statusForUpstreamCause('bulkhead_full')).toBe(503);
    for (const cause of ['refused', 'reset', 'dns', 'upstream_status', 'unknown'] as const) {
      expect(statusForUpstreamCause(cause)).toBe(502);
    }
  });
});

describe('isTransientUpstreamFailure', () => {
  it.each([
    ['deadline', undefined, true],
    ['refused', undefined, true],
    ['reset', undefined, true],
    ['dns', undefined, true],
    ['upstream_status', 500, true],
    ['upstream_status', 503, true],
    ['upstream_status', 400, false],
    ['upstream_status', 409, false],
    ['upstream_status', 422, false],
    ['circuit_open', undefined, false],
    ['bulkhead_full', undefined, false],
    ['unknown', undefined, false],
  ] as const)('%s %s is transient: %s', (cause, status, transient) => {
    const failure = status === undefined ? { cause, detail: '' } : { cause, status, detail: '' };
    expect(isTransientUpstreamFailure(failure)).toBe(transient);
  });
});
