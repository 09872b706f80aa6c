/**
 * Like Promise.all, but waits for every start to finish before it throws: each start registers its own
 * teardown when it succeeds, and a container still starting when another one failed must not miss it.
 *
 * @example
 *   const [toxiproxy, postgres] = await allStarted([startToxiproxy(), startPostgres()]);
 */
export async function allStarted<T extends unknown[]>(starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(starts);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as T;
}
