import type { LookupFunction } from 'node:net';
import { Agent } from 'undici';
import type { RecordedCharge } from './payment-ledger.ts';
import { classifyUpstreamFailure, UpstreamError, UpstreamStatusError } from './upstream-failure.ts';

export interface HttpChargeLookupOptions {
  /** Base URL of payment-service; `/charges?userId=` is appended. */
  readonly baseUrl: string;
  /** Budget of one lookup, connect included. */
  readonly timeoutMs: number;
  /** Name resolution for the connection; the system resolver when omitted. */
  readonly lookup?: LookupFunction | undefined;
}

export interface HttpChargeLookup extends AsyncDisposable {
  /**
   * The user's payments as payment-service has them. Rejects with UpstreamError when the question could
   * not be asked or answered; that never means "no payment".
   */
  chargesForUser(userId: string, signal?: AbortSignal): Promise<RecordedCharge[]>;
  close(): Promise<void>;
}

/**
 * A client for payment-service's GET /charges?userId=, on its own connection pool: the saga reconciler's
 * lookups are no checkouts, so they stay out of the payment policy (breaker, bulkhead) and the outbound
 * call counters, but they do cross the same network path and name resolution.
 *
 * @example
 *   await using charges = createHttpChargeLookup({ baseUrl: 'http://127.0.0.1:41234', timeoutMs: 2000 });
 *   const found = await charges.chargesForUser(userId); // [] when the user was never charged
 */
export function createHttpChargeLookup(options: HttpChargeLookupOptions): HttpChargeLookup {
  const base = new URL(options.baseUrl);
  const path = `${base.pathname.replace(/\/+$/, '')}/charges`;
  const agent = new Agent({
    keepAliveTimeout: 4_000,
    connect: options.lookup ? { lookup: options.lookup } : {},
  });

  const ask = async (userId: string, signal: AbortSignal): Promise<RecordedCharge[]> => {
    const response = await agent.request({
      origin: base.origin,
      path: `${path}?userId=${encodeURIComponent(userId)}`,
      method: 'GET',
      signal,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new UpstreamStatusError(response.statusCode, text);
    return parseCharges(text);
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    // Lookups are reads that the next round repeats: nothing is lost by cutting them.
    closing ??= agent.destroy().catch(() => undefined);
    return closing;
  };

  return {
    async chargesForUser(userId, signal) {
      const timeout = AbortSignal.timeout(options.timeoutMs);
      try {
        return await ask(userId, signal ? AbortSignal.any([signal, timeout]) : timeout);
      } catch (error) {
        throw new UpstreamError('payment-service', classifyUpstreamFailure(error), { cause: error });
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function parseCharges(text: string): RecordedCharge[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(
      `payment-service answered GET /charges with a body that is not JSON: ${text.slice(0, 100)}`,
    );
  }
  const payments = (parsed as { payments?: unknown } | null)?.payments;
  if (!Array.isArray(payments)) {
    throw new Error(`payment-service answered GET /charges without a payments list: ${text.slice(0, 100)}`);
  }
  return payments as RecordedCharge[];
}
