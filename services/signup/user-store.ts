import { randomUUID } from 'node:crypto';
import { asDatabaseError, isUniqueViolation } from '../db/database-errors.ts';
import type { Queryable } from '../db/queryable.ts';

export type CreatedVia = 'signup' | 'checkout';

export interface NewUser {
  readonly email: string;
  readonly passwordHash: string;
  readonly createdVia: CreatedVia;
}

/** The email is already registered; answered as 409 naming the `email` field. */
export class DuplicateEmailError extends Error {
  readonly code = 'DUPLICATE_EMAIL';
  override name = 'DuplicateEmailError';
  readonly field = 'email';
}

/**
 * Inserts a user and returns its id. On a Pool this commits on its own; on a transaction client it
 * commits with the caller's transaction. A caller that must know the id before the row exists (the
 * saga, to fence it off from its reconciler) passes one.
 *
 * @example
 *   const userId = await insertUser(pool, { email, passwordHash, createdVia: 'signup' });
 */
export async function insertUser(db: Queryable, user: NewUser, id: string = randomUUID()): Promise<string> {
  try {
    await db.query('INSERT INTO users (id, email, password_hash, created_via) VALUES ($1, $2, $3, $4)', [
      id,
      user.email,
      user.passwordHash,
      user.createdVia,
    ]);
    return id;
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_key')) {
      throw new DuplicateEmailError(`email ${user.email} is already registered`, { cause: error });
    }
    throw asDatabaseError(error, 'inserting the user');
  }
}
