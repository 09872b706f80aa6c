import type { IncomingMessage } from 'node:http';
import { DEADLINE_HEADER, parseDeadlineBudget, type Clock } from '../runtime/deadline.ts';
import { readJsonBody } from './read-json-body.ts';

/** What a handler sees of one request. */
export interface RequestContext {
  /** Aborts when the client closes the connection before the answer is written. */
  readonly signal: AbortSignal;
  /** Absolute monotonic deadline from `X-Deadline-Ms`, counted from receipt; undefined without one. */
  readonly deadline: number | undefined;
  header(name: string): string | undefined;
  /** A query-string parameter (its first value), decoded; undefined when absent. */
  query(name: string): string | undefined;
  readJsonBody(): Promise<unknown>;
}

/**
 * Builds the context for a request received at `receivedAt`. Throws InvalidFieldError for a malformed
 * `X-Deadline-Ms`, so a bad budget is a 400 rather than silently ignored.
 *
 * @example
 *   const context = createRequestContext(req, controller.signal, { bodyLimitBytes: 65536, receivedAt: clock() });
 */
export function createRequestContext(
  request: IncomingMessage,
  signal: AbortSignal,
  options: { bodyLimitBytes: number; receivedAt: number; clock?: Clock },
): RequestContext {
  const header = (name: string): string | undefined => {
    const value = request.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  const budget = parseDeadlineBudget(header(DEADLINE_HEADER));
  const url = request.url ?? '/';
  const queryAt = url.indexOf('?');
  const search = new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
  return {
    signal,
    deadline: budget === undefined ? undefined : options.receivedAt + budget,
    header,
    query: (name) => search.get(name) ?? undefined,
    readJsonBody: () => readJsonBody(request, options.bodyLimitBytes),
  };
}
