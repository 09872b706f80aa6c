import { monotonicClock, type Clock } from '../runtime/deadline.ts';

/**
 * The saga checkouts whose charge this process is still waiting for, or stopped waiting for only a
 * moment ago. The reconciler must skip them: asking payment-service about a charge that is still on its
 * way would read "no payment" and delete a user who is about to be charged.
 *
 * Kept in memory because the lab runs one signup-service; after a restart the set is empty, which is
 * right, since the old process's calls died with it. Several replicas would need it in the database.
 */
export interface CheckoutsInFlight {
  /** The checkout's user is committed and its charge is about to be sent. */
  started(userId: string): void;
  /** The charge call ended; the reconciler waits `holdMs` more before it may look (0: at once). */
  finished(userId: string, holdMs: number): void;
  /** User ids the reconciler must skip right now. */
  held(): string[];
}

/**
 * @example
 *   const inFlight = createCheckoutsInFlight();
 *   inFlight.started(userId); inFlight.held(); // [userId]
 *   inFlight.finished(userId, 0); inFlight.held(); // []
 */
export function createCheckoutsInFlight(clock: Clock = monotonicClock): CheckoutsInFlight {
  const heldUntil = new Map<string, number>();
  return {
    started(userId) {
      heldUntil.set(userId, Number.POSITIVE_INFINITY);
    },
    finished(userId, holdMs) {
      if (holdMs <= 0) heldUntil.delete(userId);
      else heldUntil.set(userId, clock() + holdMs);
    },
    held() {
      const now = clock();
      const held: string[] = [];
      for (const [userId, until] of heldUntil) {
        if (until > now) held.push(userId);
        else heldUntil.delete(userId);
      }
      return held;
    },
  };
}
