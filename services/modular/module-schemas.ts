import type pg from 'pg';
import { databaseAddress } from '../runtime/config.ts';

/** The PostgreSQL schema each module owns inside the one `modular` database. */
export const MODULE_SCHEMAS = { signup: 'signup', payment: 'payment' } as const;
export type ModuleName = keyof typeof MODULE_SCHEMAS;

/**
 * The database URL a module's pool connects with: every connection starts with `search_path` set to the
 * module's own schema, so the domain's unqualified SQL (`INSERT INTO users ...`) runs unchanged and a
 * module cannot read the other's tables without naming their schema.
 *
 * @example
 *   moduleDatabaseUrl('postgres://u:p@127.0.0.1:5432/modular', ['signup'])
 *   // 'postgres://u:p@127.0.0.1:5432/modular?options=-c+search_path%3Dsignup'
 */
export function moduleDatabaseUrl(databaseUrl: string, schemas: readonly string[]): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schemas.join(',')}`);
  return url.toString();
}

/**
 * Creates both modules' schemas, retrying while PostgreSQL is not up yet (the tables follow, through each
 * module's own pool). It also sets the database's default `search_path` to both schemas: the lab's audit
 * and a person with psql read `users` and `payments` unqualified, as in the other deployments; the
 * modules' pools are not affected, they set their own.
 *
 * @example
 *   await createModuleSchemas(pool, { databaseUrl, timeoutMs: 15_000 });
 */
export async function createModuleSchemas(
  pool: pg.Pool,
  options: { databaseUrl: string; timeoutMs: number },
): Promise<void> {
  const startedAt = performance.now();
  let attempt = 0;
  let lastError: unknown;
  while (performance.now() - startedAt < options.timeoutMs) {
    attempt += 1;
    try {
      for (const schema of Object.values(MODULE_SCHEMAS))
        await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await pool.query(
        `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = ${MODULE_SCHEMAS.signup}, ${MODULE_SCHEMAS.payment}', current_database()); END $$`,
      );
      return;
    } catch (error) {
      // The database may still be starting (containers start in any order): wait and try again.
      lastError = error;
    }
    const left = options.timeoutMs - (performance.now() - startedAt);
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, Math.min(1_000, 100 * 2 ** attempt, left))),
    );
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(
    `could not create the schemas ${Object.values(MODULE_SCHEMAS).join(' and ')} in PostgreSQL at ` +
      `${databaseAddress(options.databaseUrl)} (DATABASE_URL) within ${options.timeoutMs} ms after ${attempt} ` +
      `attempts; last error: ${reason}. Check that the database is running and DATABASE_URL points at it.`,
    { cause: lastError },
  );
}
