import { describe, expect, it } from 'vitest';
import { causeOfClientError, causeOfResponse } from '../../lab/load/outcome.ts';

const withCode = (code: string, message = code): Error => Object.assign(new Error(message), { code });

describe('causeOfClientError', () => {
  it.each([
    [withCode('ECONNREFUSED'), 'refused'],
    [withCode('ECONNRESET'), 'reset'],
    [withCode('UND_ERR_SOCKET', 'other side closed'), 'reset'],
    [withCode('UND_ERR_HEADERS_TIMEOUT'), 'client_timeout'],
    [
      Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }),
      'client_timeout',
    ],
    [withCode('UND_ERR_CONNECT_TIMEOUT'), 'connect_timeout'],
    [withCode('ENOTFOUND'), 'dns'],
    [new Error('fetch failed', { cause: withCode('ECONNREFUSED') }), 'refused'],
    [new Error('something else'), 'client_error'],
  ])('maps %s to %s', (error, cause) => {
    expect(causeOfClientError(error)).toBe(cause);
  });
});

describe('causeOfResponse', () => {
  it('takes the cause a service put in its JSON body', () => {
    expect(causeOfResponse(504, JSON.stringify({ error: 'payment timed out', cause: 'deadline' }))).toBe(
      'deadline',
    );
  });

  it('falls back to the status when the body has no usable cause', () => {
    expect(causeOfResponse(500, 'Internal Server Error')).toBe('http_500');
    expect(causeOfResponse(502, JSON.stringify({ cause: '<script>' }))).toBe('http_502');
  });
});
