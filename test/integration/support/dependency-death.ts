import type { StartedLab } from '../../../lab/runtime/runtime.ts';

export interface NoticedDeath {
  /** From the kill to `failed` aborting; undefined when it did not abort within the wait. */
  noticedAfterMs: number | undefined;
  /** `failed.reason`'s message. */
  message: string;
  code: string | undefined;
}

/** Runs `kill` (a dependency of the lab dies) and waits up to `waitMs` for `lab.failed` to abort. */
export async function killAndWaitForFailure(
  lab: StartedLab,
  kill: () => void | Promise<void>,
  waitMs = 10_000,
): Promise<NoticedDeath> {
  const noticed = new Promise<number>((resolve) =>
    lab.failed.addEventListener('abort', () => resolve(performance.now()), { once: true }),
  );
  const killedAt = performance.now();
  await kill();
  let timer: NodeJS.Timeout | undefined;
  const noticedAt = await Promise.race([
    noticed,
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), waitMs))),
  ]);
  clearTimeout(timer);
  const reason = lab.failed.reason as (Error & { code?: string }) | undefined;
  return {
    noticedAfterMs: noticedAt === undefined ? undefined : noticedAt - killedAt,
    message: reason?.message ?? '',
    code: reason?.code,
  };
}
