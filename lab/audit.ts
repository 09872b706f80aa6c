import pg from 'pg';
import type { AuditResult } from './results.ts';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Reads the databases directly (not through Toxiproxy) after the load stopped and the system settled,
 * and counts what the clients cannot see: checkout users without a payment, and double charges.
 */
export async function auditDatabases(databases: { users: string; payments: string }): Promise<AuditResult> {
  const [users, payments] = await Promise.all([
    query<{ id: string; created_via: string }>(databases.users, 'SELECT id, created_via FROM users'),
    query<{ user_id: string }>(databases.payments, 'SELECT user_id FROM payments'),
  ]);
  const paymentsPerUser = new Map<string, number>();
  for (const payment of payments)
    paymentsPerUser.set(payment.user_id, (paymentsPerUser.get(payment.user_id) ?? 0) + 1);
  const checkoutUsers = users.filter((user) => user.created_via === 'checkout');
  return {
    users: users.length,
    payments: payments.length,
    orphanUsers: checkoutUsers.filter((user) => !paymentsPerUser.has(user.id)).length,
    doubleCharges: checkoutUsers.filter((user) => (paymentsPerUser.get(user.id) ?? 0) > 1).length,
  };
}
