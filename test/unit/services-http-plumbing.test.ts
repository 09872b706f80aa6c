import { describe, expect, it } from 'vitest';
import { IdempotencyKeyReusedError } from '../../services/payment/payment-ledger.ts';
import { DatabaseUnavailableError } from '../../services/db/database-errors.ts';
import { errorReply } from '../../services/http/error-reply.ts';
import {
  MalformedJsonError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  RouteNotFoundError,
} from '../../services/http/http-errors.ts';
import { createRouter, type Handler } from '../../services/http/router.ts';
import { UpstreamError } from '../../services/payment/upstream-failure.ts';
import { DeadlineExceededError } from '../../services/runtime/deadline.ts';
import { InvalidFieldError } from '../../services/runtime/fields.ts';
import type { Logger } from '../../services/runtime/log.ts';
import { ChargeAfterSignupFailedError } from '../../services/signup/checkout.ts';
import { DuplicateEmailError } from '../../services/signup/user-store.ts';

const handler: Handler = async () => ({ status: 200, body: {} });

describe('router', () => {
  const match = createRouter([
    { method: 'POST', path: '/pay', handler },
    { method: 'GET', path: '/healthz', handler },
  ]);

  it('finds a route by exact path and method, ignoring the query string', () => {
    expect(match('POST', '/pay?trace=1')).toMatchObject({ kind: 'found', path: '/pay' });
  });

  it('tells an unknown path from a wrong method, listing the allowed ones', () => {
    expect(match('POST', '/pay/')).toEqual({ kind: 'not_found', path: '/pay/' });
    expect(match('DELETE', '/pay')).toEqual({ kind: 'method_not_allowed', path: '/pay', allow: ['POST'] });
  });

  it('refuses to register one route twice', () => {
    expect(() =>
      createRouter([
        { method: 'GET', path: '/a', handler },
        { method: 'GET', path: '/a', handler },
      ]),
    ).toThrow(/duplicate route GET \/a/);
  });
});

describe('errorReply', () => {
  const logged: string[] = [];
  const log: Logger = { info: (event) => logged.push(event), throttled: (event) => logged.push(event) };

  it.each([
    [
      new InvalidFieldError('email is required', 'email'),
      400,
      { error: 'email is required', field: 'email' },
    ],
    [
      new MalformedJsonError('Unexpected token'),
      400,
      { error: 'malformed JSON body', detail: 'Unexpected token' },
    ],
    [new PayloadTooLargeError(65_536), 413, { limitBytes: 65_536 }],
    [new RouteNotFoundError('/nope'), 404, { path: '/nope' }],
    [new DuplicateEmailError('taken'), 409, { field: 'email' }],
    [new IdempotencyKeyReusedError('reused'), 422, { field: 'Idempotency-Key' }],
    [new DeadlineExceededError('late'), 504, { cause: 'deadline' }],
    [new DatabaseUnavailableError('connect ECONNREFUSED'), 503, { cause: 'database' }],
    [
      new UpstreamError('payment-service', { cause: 'refused', detail: 'ECONNREFUSED' }),
      502,
      { cause: 'refused' },
    ],
    [
      new UpstreamError('payment-service', { cause: 'deadline', detail: 'timed out' }),
      504,
      { cause: 'deadline' },
    ],
  ])('maps %s', (error, status, body) => {
    const reply = errorReply(error, log);
    expect(reply.status).toBe(status);
    expect(reply.body).toMatchObject({ error: expect.any(String), ...body });
  });

  it('answers 405 with an Allow header', () => {
    const reply = errorReply(new MethodNotAllowedError('GET', '/pay', ['POST']), log);
    expect(reply).toMatchObject({ status: 405, headers: { allow: 'POST' } });
  });

  it('closes the connection after a 413', () => {
    expect(errorReply(new PayloadTooLargeError(10), log).headers).toEqual({ connection: 'close' });
  });

  it('names the orphaned user when a split checkout fails after the signup committed', () => {
    const failure = new UpstreamError('payment-service', { cause: 'reset', detail: 'other side closed' });
    const reply = errorReply(new ChargeAfterSignupFailedError('u-1', failure), log);
    expect(reply).toMatchObject({
      status: 502,
      body: { cause: 'reset', detail: 'other side closed', userId: 'u-1' },
    });
  });

  it('answers 500 for anything unrecognised and logs it', () => {
    expect(errorReply(new TypeError('bug'), log)).toEqual({ status: 500, body: { error: 'internal error' } });
    expect(logged).toContain('unexpected_error');
  });
});
