import { randomUUID } from 'node:crypto';
import type { RouteName } from '../vocabulary/topology.ts';

export interface PreparedRequest {
  body: string;
  headers: Record<string, string>;
  idempotencyKey?: string;
  email?: string;
}

/**
 * The body each route sends. Every request is unique (emails, idempotency keys), so the audit can
 * tell one client request from another and no request is a replay by accident.
 */
export function prepareRequest(route: RouteName, runTag: string, sequence: number): PreparedRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  switch (route) {
    case 'signup': {
      const email = `signup-${runTag}-${sequence}@lab.test`;
      return { headers, email, body: JSON.stringify({ email, password: 'correct horse battery' }) };
    }
    case 'pay': {
      const idempotencyKey = `pay-${runTag}-${sequence}`;
      return {
        headers: { ...headers, 'idempotency-key': idempotencyKey },
        idempotencyKey,
        body: JSON.stringify({ userId: randomUUID(), amountCents: 1000 + (sequence % 100) }),
      };
    }
    case 'checkout': {
      const idempotencyKey = `checkout-${runTag}-${sequence}`;
      const email = `checkout-${runTag}-${sequence}@lab.test`;
      return {
        headers: { ...headers, 'idempotency-key': idempotencyKey },
        idempotencyKey,
        email,
        body: JSON.stringify({ email, password: 'correct horse battery', amountCents: 2500 }),
      };
    }
  }
}
