import { randomUUID } from 'node:crypto';
import type { RouteName } from '../results.ts';

export interface PreparedRequest {
  body: string;
  headers: Record<string, string>;
}

/**
 * The body each route sends. Every request is unique (emails, idempotency keys), so the audit can
 * tell one client request from another and no request is a replay by accident.
 */
export function prepareRequest(route: RouteName, runTag: string, sequence: number): PreparedRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  switch (route) {
    case 'signup':
      return {
        headers,
        body: JSON.stringify({
          email: `signup-${runTag}-${sequence}@lab.test`,
          password: 'correct horse battery',
        }),
      };
    case 'pay':
      return {
        headers: { ...headers, 'idempotency-key': `pay-${runTag}-${sequence}` },
        body: JSON.stringify({ userId: randomUUID(), amountCents: 1000 + (sequence % 100) }),
      };
    case 'checkout':
      return {
        headers: { ...headers, 'idempotency-key': `checkout-${runTag}-${sequence}` },
        body: JSON.stringify({
          email: `checkout-${runTag}-${sequence}@lab.test`,
          password: 'correct horse battery',
          amountCents: 2500,
        }),
      };
  }
}
