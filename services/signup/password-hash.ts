import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { inSpan } from '../tracing/spans.ts';

export interface ScryptCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

const KEY_LENGTH = 64;
const SALT_LENGTH = 16;

function scryptAsync(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  // Node's default maxmem (32 MiB) is exactly what N=16384,r=8 needs; leave room for a higher SCRYPT_N.
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r };
  // The span includes the wait for a libuv thread: under a signup flood that queue is where time goes.
  return inSpan(
    'scrypt hash',
    () =>
      new Promise<Buffer>((resolve, reject) => {
        scrypt(password, salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key)));
      }),
    { attributes: { 'splitlab.scrypt.n': cost.N } },
  );
}

/**
 * Hashes a password with scrypt on the libuv thread pool. The cost is the point: signup is CPU-bound on
 * purpose, which is what makes a signup flood able to starve payments in the monolith.
 *
 * The result is self-describing, `scrypt$N$r$p$salt$key` (base64), so the cost can change later.
 *
 * @example
 *   const stored = await hashPassword('correct horse', { N: 16384, r: 8, p: 1 });
 */
export async function hashPassword(password: string, cost: ScryptCost): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await scryptAsync(password, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/**
 * Checks a password against a value produced by {@link hashPassword}.
 *
 * @example
 *   await verifyPassword('correct horse', stored); // true
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !N || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), {
    N: Number(N),
    r: Number(r),
    p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
