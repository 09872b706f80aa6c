import { describe, expect, it } from 'vitest';
import { ConfigError, databaseAddress, readCommonConfig } from '../../services/runtime/config.ts';
import { SERVICE_DEFAULTS } from '../../services/runtime/service-defaults.ts';
import { signupServiceConfigFromEnv } from '../../services/signup-service.ts';

const DATABASE_URL = 'postgres://splitlab:secret@db.internal:6543/monolith';

describe('service configuration from the environment', () => {
  it('needs only DATABASE_URL', () => {
    expect(readCommonConfig({ DATABASE_URL })).toEqual({
      databaseUrl: DATABASE_URL,
      host: undefined,
      port: undefined,
      serviceName: undefined,
      scryptN: undefined,
      databaseTimeoutMs: undefined,
      version: undefined,
      drainMs: undefined,
    });
  });

  it('reads SERVICE_VERSION and DRAIN_MS', () => {
    expect(readCommonConfig({ DATABASE_URL, SERVICE_VERSION: 'v2-expand', DRAIN_MS: '0' })).toMatchObject({
      version: 'v2-expand',
      drainMs: 0,
    });
  });

  it('reads the optional variables', () => {
    const config = readCommonConfig({
      DATABASE_URL,
      HOST: '0.0.0.0',
      PORT: '8080',
      SCRYPT_N: '1024',
      SERVICE_NAME: 'm',
    });
    expect(config).toMatchObject({ host: '0.0.0.0', port: 8080, scryptN: 1024, serviceName: 'm' });
  });

  it.each([
    [{}, /DATABASE_URL is required/],
    [{ DATABASE_URL, PORT: '70000' }, /PORT must be an integer between 0 and 65535/],
    [{ DATABASE_URL, SCRYPT_N: '1000' }, /SCRYPT_N must be a power of two/],
    [{ DATABASE_URL, SCRYPT_N: 'fast' }, /SCRYPT_N must be an integer/],
    [{ DATABASE_URL, SERVICE_VERSION: 'v3' }, /SERVICE_VERSION must be one of v1, v2, v2-expand, got "v3"/],
    [{ DATABASE_URL, SERVICE_VERSION: 'V2' }, /SERVICE_VERSION must be one of/],
    [{ DATABASE_URL, DRAIN_MS: '120001' }, /DRAIN_MS must be an integer between 0 and 120000/],
    [{ DATABASE_URL, DRAIN_MS: '-1' }, /DRAIN_MS must be an integer between 0 and 120000/],
  ])('refuses %j with a message naming the variable', (env, message) => {
    expect(() => readCommonConfig(env)).toThrow(ConfigError);
    expect(() => readCommonConfig(env)).toThrow(message);
  });

  it('names host:port of the database without the password', () => {
    expect(databaseAddress(DATABASE_URL)).toBe('db.internal:6543');
    expect(databaseAddress('postgres://u@db/x')).toBe('db:5432');
  });

  it('reads signup-service settings and checks their shape', () => {
    const env = { DATABASE_URL, PAYMENT_URL: 'http://payment-service:41234', DNS_SERVER: '127.0.0.1:5353' };
    expect(signupServiceConfigFromEnv({ ...env, PAYMENT_DEADLINE_MS: '800' })).toMatchObject({
      paymentUrl: 'http://payment-service:41234',
      dnsServer: '127.0.0.1:5353',
      paymentDeadlineMs: 800,
    });
    expect(() => signupServiceConfigFromEnv({ DATABASE_URL })).toThrow(/PAYMENT_URL is required/);
    expect(() => signupServiceConfigFromEnv({ ...env, PAYMENT_URL: 'payment-service:1' })).toThrow(
      /PAYMENT_URL/,
    );
    expect(() => signupServiceConfigFromEnv({ ...env, DNS_SERVER: 'dns.local:53' })).toThrow(
      /DNS_SERVER must be ip:port/,
    );
  });

  describe('signup-service payment policy settings', () => {
    const env = { DATABASE_URL, PAYMENT_URL: 'http://payment-service:41234' };

    it('leaves every policy setting unset by default, so SERVICE_DEFAULTS apply', () => {
      expect(signupServiceConfigFromEnv(env)).toMatchObject({
        paymentPolicy: undefined,
        paymentIdempotency: undefined,
        paymentAttemptTimeoutMs: undefined,
        paymentRetries: undefined,
        paymentBreakerThreshold: undefined,
        paymentBreakerHalfOpenMs: undefined,
        paymentBulkheadLimit: undefined,
        paymentBulkheadQueue: undefined,
      });
      expect(SERVICE_DEFAULTS).toMatchObject({
        paymentPolicy: 'timeout',
        paymentIdempotency: 'on',
        paymentDeadlineMs: 5_000,
        paymentAttemptTimeoutMs: 1_000,
        paymentRetries: 2,
        paymentBackoff: { initialDelayMs: 100, maxDelayMs: 1_000 },
        paymentBreakerThreshold: 5,
        paymentBreakerHalfOpenMs: 5_000,
        paymentBulkheadLimit: 20,
        paymentBulkheadQueue: 10,
      });
    });

    it.each(['none', 'timeout', 'retry', 'breaker', 'bulkhead'])('reads PAYMENT_POLICY=%s', (policy) => {
      expect(signupServiceConfigFromEnv({ ...env, PAYMENT_POLICY: policy }).paymentPolicy).toBe(policy);
    });

    it('reads every variable', () => {
      const config = signupServiceConfigFromEnv({
        ...env,
        PAYMENT_POLICY: 'bulkhead',
        PAYMENT_IDEMPOTENCY: 'off',
        PAYMENT_ATTEMPT_TIMEOUT_MS: '750',
        PAYMENT_RETRIES: '0',
        PAYMENT_BREAKER_THRESHOLD: '3',
        PAYMENT_BREAKER_HALF_OPEN_MS: '2000',
        PAYMENT_BULKHEAD_LIMIT: '8',
        PAYMENT_BULKHEAD_QUEUE: '0',
      });
      expect(config).toMatchObject({
        paymentPolicy: 'bulkhead',
        paymentIdempotency: 'off',
        paymentAttemptTimeoutMs: 750,
        paymentRetries: 0,
        paymentBreakerThreshold: 3,
        paymentBreakerHalfOpenMs: 2_000,
        paymentBulkheadLimit: 8,
        paymentBulkheadQueue: 0,
      });
    });

    it.each([
      [
        'PAYMENT_POLICY',
        'circuit',
        /PAYMENT_POLICY must be one of none, timeout, retry, breaker, bulkhead, got "circuit"/,
      ],
      ['PAYMENT_POLICY', 'Retry', /PAYMENT_POLICY must be one of/],
      ['PAYMENT_IDEMPOTENCY', 'yes', /PAYMENT_IDEMPOTENCY must be one of on, off, got "yes"/],
      ['PAYMENT_ATTEMPT_TIMEOUT_MS', '0', /PAYMENT_ATTEMPT_TIMEOUT_MS must be an integer between 1 and/],
      ['PAYMENT_ATTEMPT_TIMEOUT_MS', '1s', /PAYMENT_ATTEMPT_TIMEOUT_MS must be an integer/],
      ['PAYMENT_RETRIES', '-1', /PAYMENT_RETRIES must be an integer between 0 and 100/],
      ['PAYMENT_RETRIES', '2.5', /PAYMENT_RETRIES must be an integer/],
      ['PAYMENT_BREAKER_THRESHOLD', '0', /PAYMENT_BREAKER_THRESHOLD must be an integer between 1 and/],
      ['PAYMENT_BREAKER_HALF_OPEN_MS', 'soon', /PAYMENT_BREAKER_HALF_OPEN_MS must be an integer/],
      ['PAYMENT_BULKHEAD_LIMIT', '0', /PAYMENT_BULKHEAD_LIMIT must be an integer between 1 and/],
      ['PAYMENT_BULKHEAD_QUEUE', '-5', /PAYMENT_BULKHEAD_QUEUE must be an integer between 0 and/],
    ])('refuses %s=%s with a message naming the variable', (name, value, message) => {
      const read = (): unknown => signupServiceConfigFromEnv({ ...env, [name]: value });
      expect(read).toThrow(ConfigError);
      expect(read).toThrow(message);
    });
  });
});
