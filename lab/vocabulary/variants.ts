import { PAYMENT_POLICY_NAMES, type PaymentPolicyName } from '../../services/payment/payment-policy.ts';
import type { DeploymentName, VariantName } from './topology.ts';

/** How split's signup-service calls payment-service: the services own the list. */
export type PolicyName = PaymentPolicyName;
export const POLICIES: readonly PolicyName[] = PAYMENT_POLICY_NAMES;

/**
 * How split's checkout keeps user and payment consistent: `none` (create the user, then charge),
 * `saga` (compensate when the charge definitely failed, reconcile when its outcome is unknown),
 * `outbox` (user and charge request in one transaction; a relay delivers the charge).
 */
export type ConsistencyName = 'none' | 'saga' | 'outbox';

/**
 * One column of a report: a deployment, and the settings its services run with.
 * Scenarios without `variants` run `monolith()` and `split()`.
 */
export interface VariantDefinition {
  name: VariantName;
  deployment: DeploymentName;
  /** Environment for the variant's services, e.g. `{ PAYMENT_POLICY: 'retry' }`. */
  settings: Record<string, string>;
}

/** The monolith: one process, one database, one transaction. */
export function monolith(): VariantDefinition {
  return { name: 'monolith', deployment: 'monolith', settings: {} };
}

/** Where the modular monolith's payment module runs: on the main thread, or on a worker thread of its own. */
export type PaymentModulePlace = 'in-process' | 'worker';

/**
 * The modular monolith: one process, signup and payment as modules with their own schema and pool in one
 * database, talking through the PaymentGateway interface; checkout is one transaction. With
 * `paymentOn: 'worker'` the payment module runs on its own worker thread (own event loop, no network), and
 * checkout becomes a user transaction held open around the worker's charge.
 *
 * @example
 *   modular()                        // 'modular'
 *   modular({ paymentOn: 'worker' }) // 'modular/worker', PAYMENT_MODULE=worker
 */
export function modular(
  options: { paymentOn?: PaymentModulePlace; name?: VariantName } = {},
): VariantDefinition {
  const onWorker = options.paymentOn === 'worker';
  return {
    name: options.name ?? (onWorker ? 'modular/worker' : 'modular'),
    deployment: 'modular',
    settings: onWorker ? { PAYMENT_MODULE: 'worker' } : {},
  };
}

/** What a scenario without `variants` runs: the monolith, then split with its defaults. */
export function defaultVariants(): VariantDefinition[] {
  return [monolith(), split()];
}

/**
 * The split deployment, optionally with another resilience policy, consistency strategy, or with
 * idempotency keys off.
 *
 * @example
 *   split()                                       // 'split': 5 s deadline, keys on
 *   split({ policy: 'retry' })                    // 'split/retry'
 *   split({ policy: 'retry', idempotency: false }) // 'split/retry-no-keys'
 *   split({ consistency: 'outbox' })              // 'split/outbox'
 */
export function split(
  options: {
    policy?: PolicyName;
    idempotency?: boolean;
    consistency?: ConsistencyName;
    name?: VariantName;
  } = {},
): VariantDefinition {
  const settings: Record<string, string> = {};
  if (options.policy) settings.PAYMENT_POLICY = options.policy;
  if (options.idempotency === false) settings.PAYMENT_IDEMPOTENCY = 'off';
  if (options.consistency) settings.CHECKOUT_CONSISTENCY = options.consistency;
  const suffix = [options.policy, options.consistency, options.idempotency === false ? 'no-keys' : undefined]
    .filter(Boolean)
    .join('-');
  return { name: options.name ?? (suffix ? `split/${suffix}` : 'split'), deployment: 'split', settings };
}
