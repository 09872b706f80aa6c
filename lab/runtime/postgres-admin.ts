import pg from 'pg';

export interface PostgresConnection {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** Drops and creates these databases: each deployment variant starts from empty tables. */
export async function recreateDatabases(
  connection: PostgresConnection,
  names: readonly string[],
): Promise<void> {
  const client = new pg.Client({ ...connection, database: 'postgres' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for (const name of names) {
      // Names come from the lab's own list; quoting keeps them identifiers all the same.
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.query(`CREATE DATABASE "${name}"`);
    }
  } finally {
    await client.end();
  }
}

/** `postgres://user:password@host:port/database` */
export function postgresUrl(connection: PostgresConnection, database: string): string {
  return `postgres://${connection.user}:${connection.password}@${connection.host}:${connection.port}/${database}`;
}
