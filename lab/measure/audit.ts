import pg from 'pg';
import type { RequestOutcome } from '../load/outcome.ts';
import type { AuditResult } from '../results.ts';

async function query<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  // A database link may have just been cut by a scenario; an error here must not crash the lab.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Reads the databases directly (not through Toxiproxy) after the load stopped and the system settled,
 * and compares what they hold with what each client was told:
 * - orphan users: checkout users without a payment (the split checkout's partial failure);
 * - double charges: checkout users charged more than once;
 * - acknowledged without a row: a 2xx the databases do not back (a lost write);
 * - failed but committed: the client saw a failure, yet the charge is in the ledger.
 * In the monolith the last three and orphans are 0 by construction: checkout is one transaction.
 */
export async function auditDatabases(
  databases: { users: string; payments: string },
  outcomes: readonly RequestOutcome[] = [],
): Promise<AuditResult> {
  // Requests the generator itself never sent (generator_limit) told no one anything.
  const answered = outcomes.filter((outcome) => outcome.cause !== 'generator_limit');
  const payKeys = answered.flatMap((outcome) =>
    outcome.route === 'pay' && outcome.idempotencyKey ? [outcome.idempotencyKey] : [],
  );
  const checkoutEmails = answered.flatMap((outcome) =>
    outcome.route === 'checkout' && outcome.email ? [outcome.email] : [],
  );
  const [users, payments, chargedPayKeys, checkoutUsers] = await Promise.all([
    query<{ id: string; created_via: string }>(databases.users, 'SELECT id, created_via FROM users'),
    query<{ user_id: string }>(databases.payments, 'SELECT user_id FROM payments'),
    query<{ idempotency_key: string }>(
      databases.payments,
      'SELECT idempotency_key FROM payments WHERE idempotency_key = ANY($1)',
      [payKeys],
    ),
    query<{ id: string; email: string }>(
      databases.users,
      'SELECT id, email FROM users WHERE email = ANY($1)',
      [checkoutEmails],
    ),
  ]);
  const paymentsPerUser = new Map<string, number>();
  for (const payment of payments) {
    paymentsPerUser.set(payment.user_id, (paymentsPerUser.get(payment.user_id) ?? 0) + 1);
  }
  // A checkout is found by its user (its email), and its charge by that user: the key that reached
  // the ledger may not be the client's, when a variant sends a fresh key per attempt.
  const userIdByEmail = new Map(checkoutUsers.map((user) => [user.email, user.id]));
  const chargedPay = new Set(chargedPayKeys.map((row) => row.idempotency_key));
  const committed = (outcome: RequestOutcome): boolean => {
    if (outcome.route === 'pay') return chargedPay.has(outcome.idempotencyKey ?? '');
    const userId = userIdByEmail.get(outcome.email ?? '');
    return userId !== undefined && (paymentsPerUser.get(userId) ?? 0) > 0;
  };
  const audited = answered.filter((outcome) => outcome.route !== 'signup');
  const checkoutCreated = users.filter((user) => user.created_via === 'checkout');
  return {
    users: users.length,
    payments: payments.length,
    orphanUsers: checkoutCreated.filter((user) => !paymentsPerUser.has(user.id)).length,
    doubleCharges: checkoutCreated.filter((user) => (paymentsPerUser.get(user.id) ?? 0) > 1).length,
    acknowledgedWithoutRow: audited.filter((outcome) => outcome.ok && !committed(outcome)).length,
    failedButCommitted: audited.filter((outcome) => !outcome.ok && committed(outcome)).length,
  };
}
