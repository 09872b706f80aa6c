import { describe, expect, it } from 'vitest';
import { parseChargeBody } from '../../services/payment/charge-request.ts';
import { chargeBodyFor } from '../../services/payment/http-payment-gateway.ts';
import { InvalidFieldError } from '../../services/runtime/fields.ts';
import type { ServiceVersion } from '../../services/runtime/service-version.ts';

// The /charge contract by version (services/runtime/service-version.ts): what payment-service reads and
// what signup-service sends. The integration test services-versions.test.ts runs the same skew for real.

const USER_ID = '0b7e5c1a-3f7d-4c2e-9a41-5d0e6f7a8b9c';
const V1_BODY = { userId: USER_ID, amountCents: 1999 };

function refusal(body: unknown, version: ServiceVersion): InvalidFieldError {
  try {
    parseChargeBody(body, version);
  } catch (error) {
    if (error instanceof InvalidFieldError) return error;
    throw error;
  }
  throw new Error(`expected ${version} to refuse ${JSON.stringify(body)}`);
}

describe('payment /charge body by version', () => {
  it('v1 charges in EUR and ignores a currency it does not know about (tolerant reader)', () => {
    expect(parseChargeBody(V1_BODY, 'v1')).toEqual({ ...V1_BODY, currency: 'EUR' });
    expect(parseChargeBody({ ...V1_BODY, currency: 'USD' }, 'v1').currency).toBe('EUR');
    expect(parseChargeBody({ ...V1_BODY, currency: 42 }, 'v1').currency).toBe('EUR');
  });

  it('v2 refuses a v1 body, naming currency and the version', () => {
    const error = refusal(V1_BODY, 'v2');
    expect(error.field).toBe('currency');
    expect(error.message).toContain('currency is required by /charge v2');
    expect(refusal({ ...V1_BODY, currency: null }, 'v2').field).toBe('currency');
  });

  it('v2 accepts and keeps a currency of 3 upper-case letters', () => {
    expect(parseChargeBody({ ...V1_BODY, currency: 'USD' }, 'v2')).toEqual({ ...V1_BODY, currency: 'USD' });
  });

  it.each(['v2', 'v2-expand'] as const)('%s refuses a malformed currency', (version) => {
    for (const currency of ['eur', 'EU', 'EURO', '', 978, ['EUR']]) {
      const error = refusal({ ...V1_BODY, currency }, version);
      expect(error.field).toBe('currency');
      expect(error.message).toMatch(/3 upper-case letters/);
    }
  });

  it('v2-expand accepts both bodies: a missing currency is EUR', () => {
    expect(parseChargeBody(V1_BODY, 'v2-expand').currency).toBe('EUR');
    expect(parseChargeBody({ ...V1_BODY, currency: 'GBP' }, 'v2-expand').currency).toBe('GBP');
  });

  it('checks the other fields first, whatever the version', () => {
    expect(refusal({ amountCents: 1 }, 'v2').field).toBe('userId');
    expect(refusal({ userId: USER_ID }, 'v2').field).toBe('amountCents');
  });
});

describe('signup /charge body by version', () => {
  const request = { userId: USER_ID, amountCents: 1999, idempotencyKey: 'k' };

  it("v1 sends today's body, never a currency", () => {
    expect(chargeBodyFor('v1', request)).toEqual(V1_BODY);
    expect(chargeBodyFor('v1', { ...request, currency: 'USD' })).toEqual(V1_BODY);
  });

  it.each(['v2', 'v2-expand'] as const)(
    '%s sends the currency, EUR unless the request names one',
    (version) => {
      expect(chargeBodyFor(version, request)).toEqual({ ...V1_BODY, currency: 'EUR' });
      expect(chargeBodyFor(version, { ...request, currency: 'USD' })).toEqual({
        ...V1_BODY,
        currency: 'USD',
      });
    },
  );

  it.each(['v1', 'v2', 'v2-expand'] as const)(
    'what signup %s sends, payment of the same version accepts',
    (version) => {
      const sent = chargeBodyFor(version, request);
      expect(parseChargeBody(sent, version)).toEqual({ ...V1_BODY, currency: 'EUR' });
    },
  );
});
