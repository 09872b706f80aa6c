import { InvalidFieldError } from './fields.ts';

/**
 * Deadlines are absolute points on a monotonic clock (milliseconds, `performance.now()` by default), so a
 * wall-clock step cannot stretch or shrink a budget. Between processes a deadline travels as a relative
 * budget in the `X-Deadline-Ms` header, because two processes do not share a monotonic clock.
 */
export type Clock = () => number;

export const monotonicClock: Clock = () => performance.now();

/** The header that carries the caller's remaining budget, in whole milliseconds. */
export const DEADLINE_HEADER = 'X-Deadline-Ms';

/** Budgets above an hour are surely a unit mistake (seconds vs microseconds); refuse them loudly. */
const MAX_BUDGET_MS = 3_600_000;

/** Thrown when a deadline has passed before the work could finish; answered as 504 `cause: 'deadline'`. */
export class DeadlineExceededError extends Error {
  readonly code = 'DEADLINE_EXCEEDED';
  override name = 'DeadlineExceededError';
}

/**
 * Parses an `X-Deadline-Ms` value into a budget in milliseconds; `undefined` when the header is absent.
 *
 * @example
 *   parseDeadlineBudget('250'); // 250
 *   parseDeadlineBudget(undefined); // undefined
 *   parseDeadlineBudget('soon'); // throws InvalidFieldError naming X-Deadline-Ms
 */
export function parseDeadlineBudget(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!/^\d{1,10}$/.test(trimmed) || Number(trimmed) > MAX_BUDGET_MS) {
    throw new InvalidFieldError(
      `${DEADLINE_HEADER} must be a whole number of milliseconds between 0 and ${MAX_BUDGET_MS}`,
      DEADLINE_HEADER,
    );
  }
  return Number(trimmed);
}

/**
 * Whole milliseconds left before `deadline`, never negative. Rounds down so the callee never believes it
 * has more time than the caller will wait.
 *
 * @example
 *   remainingMs(1_000.9, 900); // 100
 *   remainingMs(900, 1_000); // 0
 */
export function remainingMs(deadline: number, now: number): number {
  return Math.max(0, Math.floor(deadline - now));
}

/** A deadline has passed once no whole millisecond is left, so a budget of 0 is already expired. */
export function isExpired(deadline: number | undefined, now: number): boolean {
  return deadline !== undefined && remainingMs(deadline, now) === 0;
}

/**
 * The earlier of some optional deadlines: an outbound call never outlives the request that made it.
 *
 * @example
 *   earliestDeadline(5_000, undefined, 3_000); // 3000
 *   earliestDeadline(undefined); // undefined
 */
export function earliestDeadline(...deadlines: readonly (number | undefined)[]): number | undefined {
  let earliest: number | undefined;
  for (const deadline of deadlines) {
    if (deadline !== undefined && (earliest === undefined || deadline < earliest)) earliest = deadline;
  }
  return earliest;
}

/**
 * The `X-Deadline-Ms` value to send now for an absolute deadline.
 *
 * @example
 *   deadlineHeaderValue(5_000.4, 1_000); // '4000'
 */
export function deadlineHeaderValue(deadline: number, now: number): string {
  return String(remainingMs(deadline, now));
}

/** Throws {@link DeadlineExceededError} when the deadline has passed; `stage` says what was skipped. */
export function assertBeforeDeadline(deadline: number | undefined, now: number, stage: string): void {
  if (isExpired(deadline, now)) throw new DeadlineExceededError(`deadline exceeded before ${stage}`);
}
