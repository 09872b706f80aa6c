import { SERVICE_VERSIONS, type ServiceVersion } from './service-version.ts';

/** Thrown for a missing or malformed environment variable; the message names the variable. */
export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

/** Settings every service shares. Only `databaseUrl` is required; the rest fall back to SERVICE_DEFAULTS. */
export interface CommonServiceConfig {
  host?: string;
  port?: number;
  databaseUrl: string;
  serviceName?: string;
  /** scrypt cost parameter N (a power of two); tests use 1024 to stay fast. */
  scryptN?: number;
  databaseTimeoutMs?: number;
  startupTimeoutMs?: number;
  /** Which contract the service speaks (see service-version.ts); SERVICE_DEFAULTS.version when unset. */
  version?: ServiceVersion;
  /** On SIGTERM, how long requests in flight may take before their connections are cut. */
  drainMs?: number;
}

/**
 * Reads HOST, PORT, DATABASE_URL, SERVICE_NAME, SCRYPT_N, DB_TIMEOUT_MS, SERVICE_VERSION and DRAIN_MS.
 *
 * @example
 *   const config = readCommonConfig({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/monolith' });
 */
export function readCommonConfig(env: Env): CommonServiceConfig {
  const databaseUrl = readString(env, 'DATABASE_URL');
  if (databaseUrl === undefined) {
    throw new ConfigError('DATABASE_URL is required, e.g. postgres://user:password@127.0.0.1:5432/monolith');
  }
  const scryptN = readInteger(env, 'SCRYPT_N', { min: 2, max: 2 ** 20 });
  if (scryptN !== undefined && !isPowerOfTwo(scryptN)) {
    throw new ConfigError(`SCRYPT_N must be a power of two, got ${scryptN}`);
  }
  return {
    databaseUrl,
    host: readString(env, 'HOST'),
    port: readInteger(env, 'PORT', { min: 0, max: 65_535 }),
    serviceName: readString(env, 'SERVICE_NAME'),
    scryptN,
    databaseTimeoutMs: readInteger(env, 'DB_TIMEOUT_MS', { min: 1, max: 600_000 }),
    version: readChoice(env, 'SERVICE_VERSION', SERVICE_VERSIONS),
    drainMs: readInteger(env, 'DRAIN_MS', { min: 0, max: 120_000 }),
  };
}

/** A trimmed, non-empty variable or `undefined`. */
export function readString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** An integer variable within `[min, max]`, or `undefined` when unset. */
export function readInteger(env: Env, name: string, range: { min: number; max: number }): number | undefined {
  const raw = readString(env, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new ConfigError(`${name} must be an integer between ${range.min} and ${range.max}, got "${raw}"`);
  }
  return value;
}

/**
 * One of a fixed set of words, or `undefined` when unset. Case matters: `Retry` is refused rather than
 * guessed, so a typo in a scenario cannot silently run another variant.
 *
 * @example
 *   readChoice({ PAYMENT_POLICY: 'retry' }, 'PAYMENT_POLICY', ['none', 'retry']); // 'retry'
 */
export function readChoice<const T extends string>(
  env: Env,
  name: string,
  choices: readonly T[],
): T | undefined {
  const raw = readString(env, name);
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function isPowerOfTwo(value: number): boolean {
  return Number.isInteger(value) && value > 1 && (value & (value - 1)) === 0;
}

/**
 * `host:port` of a PostgreSQL URL without credentials, for error messages.
 *
 * @example
 *   databaseAddress('postgres://u:secret@db:6543/payment'); // 'db:6543'
 */
export function databaseAddress(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname || 'localhost'}:${url.port || '5432'}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
