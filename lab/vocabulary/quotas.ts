/**
 * CPU and memory per service container (containers runtime). Every deployment gets the same budget,
 * 2 CPUs and 1 GiB: the monolith and the modular monolith have all of it, split gives each service half. That is what splitting
 * does to capacity: payment-service can no longer borrow the CPU signup is not using, and the other way
 * round. The local runtime mirrors the CPU part by pinning split's services to disjoint CPUs.
 */
export interface ServiceQuota {
  /** CPUs (Docker NanoCpus / 1e9): 0.5 is half a core's time, spread over all cores. */
  cpu: number;
  memoryMiB: number;
}

export const DEFAULT_QUOTAS: Readonly<Record<string, ServiceQuota>> = {
  monolith: { cpu: 2, memoryMiB: 1024 },
  modular: { cpu: 2, memoryMiB: 1024 },
  'signup-service': { cpu: 1, memoryMiB: 512 },
  'payment-service': { cpu: 1, memoryMiB: 512 },
};

export type QuotaOverrides = Partial<Record<string, Partial<ServiceQuota>>>;

export function quotaFor(service: string, overrides: QuotaOverrides = {}): ServiceQuota {
  const base = DEFAULT_QUOTAS[service] ?? { cpu: 1, memoryMiB: 512 };
  return { ...base, ...overrides[service] };
}

export function describeQuota(quota: ServiceQuota): string {
  return `${quota.cpu} CPU, ${quota.memoryMiB} MiB`;
}
