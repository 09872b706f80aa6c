import { describe, expect, it } from 'vitest';
import { ConfigError, databaseAddress, readCommonConfig } from '../../services/runtime/config.ts';
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
});
