import type pg from 'pg';
import type { Handler } from '../http/router.ts';
import { hashPassword, type ScryptCost } from './password-hash.ts';
import { parseSignupRequest } from './signup-request.ts';
import { insertUser } from './user-store.ts';

/**
 * POST /signup, identical in both deployments: validate, hash (CPU), insert. 201 `{ userId }`.
 *
 * @example
 *   const route = { method: 'POST', path: '/signup', handler: createSignupHandler(pool, scrypt) };
 */
export function createSignupHandler(pool: pg.Pool, scrypt: ScryptCost): Handler {
  return async (context) => {
    const { email, password } = parseSignupRequest(await context.readJsonBody());
    // Hash before touching the pool: a connection must not sit idle for the length of a KDF.
    const passwordHash = await hashPassword(password, scrypt);
    const userId = await insertUser(pool, { email, passwordHash, createdVia: 'signup' });
    return { status: 201, body: { userId } };
  };
}
