import { describe, expect, it } from 'vitest';
import {
  MAX_AMOUNT_CENTS,
  parseChargeBody,
  parseIdempotencyKey,
} from '../../services/payment/charge-request.ts';
import { InvalidBodyError, InvalidFieldError } from '../../services/runtime/fields.ts';
import { parseCheckoutRequest, parseSignupRequest } from '../../services/signup/signup-request.ts';

const USER_ID = '0b7e5c1a-3f7d-4c2e-9a41-5d0e6f7a8b9c';

/** Runs `parse` and returns the field named by the InvalidFieldError it throws. */
function rejectedField(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    if (error instanceof InvalidFieldError) return error.field;
    throw error;
  }
  throw new Error('expected an InvalidFieldError, but parsing succeeded');
}

describe('signup body', () => {
  it('accepts an email with @ and a password of 8 to 200 characters', () => {
    expect(parseSignupRequest({ email: 'ada@example.com', password: 'x'.repeat(8) })).toEqual({
      email: 'ada@example.com',
      password: 'xxxxxxxx',
    });
    expect(parseSignupRequest({ email: 'a@b', password: 'x'.repeat(200) }).password).toHaveLength(200);
  });

  it.each([
    ['email missing', { password: 'long enough' }, 'email'],
    ['email null', { email: null, password: 'long enough' }, 'email'],
    ['email a number', { email: 42, password: 'long enough' }, 'email'],
    ['email without @', { email: 'ada.example.com', password: 'long enough' }, 'email'],
    ['password missing', { email: 'a@b.c' }, 'password'],
    ['password a number', { email: 'a@b.c', password: 12345678 }, 'password'],
    ['password of 7', { email: 'a@b.c', password: 'x'.repeat(7) }, 'password'],
    ['password of 201', { email: 'a@b.c', password: 'x'.repeat(201) }, 'password'],
  ])('rejects %s, naming the field', (_case, body, field) => {
    expect(rejectedField(() => parseSignupRequest(body))).toBe(field);
  });

  it.each([[null], [[]], ['text'], [7]])('rejects a body that is not an object: %j', (body) => {
    expect(() => parseSignupRequest(body)).toThrow(InvalidBodyError);
  });
});

describe('checkout body', () => {
  const signup = { email: 'ada@example.com', password: 'long enough' };

  it('is a signup plus amountCents', () => {
    expect(parseCheckoutRequest({ ...signup, amountCents: 1999 })).toEqual({ ...signup, amountCents: 1999 });
    expect(parseCheckoutRequest({ ...signup, amountCents: MAX_AMOUNT_CENTS }).amountCents).toBe(10_000_000);
  });

  it.each([
    ['amountCents missing', {}, 'amountCents'],
    ['amountCents a string', { amountCents: '1999' }, 'amountCents'],
    ['amountCents fractional', { amountCents: 19.99 }, 'amountCents'],
    ['amountCents zero', { amountCents: 0 }, 'amountCents'],
    ['amountCents negative', { amountCents: -5 }, 'amountCents'],
    ['amountCents above the maximum', { amountCents: MAX_AMOUNT_CENTS + 1 }, 'amountCents'],
    ['email missing', { email: undefined, amountCents: 1 }, 'email'],
  ])('rejects %s', (_case, overrides, field) => {
    expect(rejectedField(() => parseCheckoutRequest({ ...signup, ...overrides }))).toBe(field);
  });
});

describe('charge body', () => {
  it('accepts a uuid and a positive integer, lower-casing the uuid', () => {
    expect(parseChargeBody({ userId: USER_ID.toUpperCase(), amountCents: 1 })).toEqual({
      userId: USER_ID,
      amountCents: 1,
      currency: 'EUR',
    });
  });

  it.each([
    ['userId missing', { amountCents: 1 }, 'userId'],
    ['userId a number', { userId: 7, amountCents: 1 }, 'userId'],
    ['userId not a uuid', { userId: 'user-7', amountCents: 1 }, 'userId'],
    ['amountCents missing', { userId: USER_ID }, 'amountCents'],
    ['amountCents a string', { userId: USER_ID, amountCents: '1' }, 'amountCents'],
    ['amountCents too large', { userId: USER_ID, amountCents: 10_000_001 }, 'amountCents'],
  ])('rejects %s', (_case, body, field) => {
    expect(rejectedField(() => parseChargeBody(body))).toBe(field);
  });
});

describe('Idempotency-Key header', () => {
  it('accepts 1 to 200 characters', () => {
    expect(parseIdempotencyKey('k', { required: true })).toBe('k');
    expect(parseIdempotencyKey('k'.repeat(200), { required: true })).toHaveLength(200);
  });

  it('is optional only where the route says so', () => {
    expect(parseIdempotencyKey(undefined, { required: false })).toBeUndefined();
    expect(rejectedField(() => parseIdempotencyKey(undefined, { required: true }))).toBe('Idempotency-Key');
  });

  it.each([[''], ['k'.repeat(201)]])('rejects a key of %#', (value) => {
    expect(rejectedField(() => parseIdempotencyKey(value, { required: false }))).toBe('Idempotency-Key');
  });
});
