/**
 * The interface signup's checkout depends on. The monolith implements it in-process (same transaction),
 * the split deployment over HTTP; the checkout code cannot tell which one it got.
 */
export interface ChargeRequest {
  readonly userId: string;
  readonly amountCents: number;
  readonly idempotencyKey: string;
  /**
   * ISO 4217 code; DEFAULT_CURRENCY when absent. Optional because checkout, written before /charge v2,
   * charges in the one currency there was.
   */
  readonly currency?: string | undefined;
}

export interface ChargeResult {
  readonly paymentId: string;
  /** True when the idempotency key had already been charged and the earlier payment is returned. */
  readonly replayed: boolean;
}

export interface CallOptions {
  /** Aborts the call, e.g. because the request that needs it was abandoned. */
  readonly signal?: AbortSignal | undefined;
  /** Absolute monotonic deadline (see runtime/deadline.ts); the call gives up when it passes. */
  readonly deadline?: number | undefined;
}

export interface PaymentGateway {
  /**
   * Charges once per idempotency key.
   *
   * @example
   *   const { paymentId } = await gateway.charge({ userId, amountCents: 1999, idempotencyKey }, { deadline });
   */
  charge(request: ChargeRequest, options: CallOptions): Promise<ChargeResult>;
}
