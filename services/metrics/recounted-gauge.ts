/**
 * A count of database rows, kept in memory so /metrics never touches the database: scraping must not
 * hang or take a pooled connection while the database is the thing a scenario broke.
 */
export interface RecountedGauge {
  /** This process committed `count` new rows; call after the commit. */
  added(count?: number): void;
  /** This process committed the removal of `count` rows; call after the commit. */
  removed(count?: number): void;
  /** Replaces the estimate with a fresh COUNT; call from one loop at a time. */
  recount(count: () => Promise<number>): Promise<void>;
  value(): number;
}

/**
 * The estimate may run high, never low: a reader waiting for 0 (the lab, before its audit) must not
 * read 0 while rows are still there. Rows committed while a COUNT runs may or may not be in it, so they
 * are added on top of it (at worst counted twice); removals committed meanwhile are ignored (at worst
 * counted once too many). Either excess disappears at the next recount.
 *
 * @example
 *   const pending = createRecountedGauge();
 *   pending.added(); pending.value(); // 1
 *   await pending.recount(async () => 0); pending.value(); // 0
 */
export function createRecountedGauge(): RecountedGauge {
  let value = 0;
  let addedTotal = 0;
  return {
    added(count = 1) {
      addedTotal += count;
      value += count;
    },
    removed(count = 1) {
      value = Math.max(0, value - count);
    },
    async recount(count) {
      const addedBefore = addedTotal;
      const counted = await count();
      value = counted + (addedTotal - addedBefore);
    },
    value: () => value,
  };
}
