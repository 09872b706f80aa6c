import type { PhaseWindow, ServicePhaseSummary, ServiceResult, ServiceSample } from '../results.ts';

type Counter = 'requestsTotal' | 'outboundCallsTotal' | 'outboundAttemptsTotal' | 'bulkheadRejectionsTotal';

/**
 * The growth of a cumulative counter across a phase, from the last sample at or before its start to the
 * last sample at or before its end. Null when either is missing, or when the counter went down (the
 * service restarted, counting from 0 again).
 */
function delta(samples: readonly ServiceSample[], counter: Counter, phase: PhaseWindow): number | null {
  const known = (sample: ServiceSample): boolean => typeof sample[counter] === 'number';
  const at = (t: number): number | null | undefined =>
    samples.filter((sample) => sample.t <= t + 0.5 && known(sample)).at(-1)?.[counter];
  const first = samples.find(known)?.[counter];
  const start = phase.startS === 0 ? first : at(phase.startS);
  const end = at(phase.endS);
  if (typeof start !== 'number' || typeof end !== 'number' || end < start) return null;
  return end - start;
}

/**
 * Summarises what each service did in each phase, from its scraped counters. Pure.
 *
 * @example
 *   summarizeServicePhases(services, phases)[0] // { service: 'signup-service', phase: 'slow', attemptsPerCall: 3, ... }
 */
export function summarizeServicePhases(
  services: readonly ServiceResult[],
  phases: readonly PhaseWindow[],
): ServicePhaseSummary[] {
  return services.flatMap((service) =>
    phases.map((phase) => {
      const requests = delta(service.samples, 'requestsTotal', phase);
      const calls = delta(service.samples, 'outboundCallsTotal', phase);
      const attempts = delta(service.samples, 'outboundAttemptsTotal', phase);
      const inPhase = service.samples.filter((sample) => sample.t >= phase.startS && sample.t <= phase.endS);
      const outbound = inPhase.flatMap((sample) =>
        typeof sample.outboundInFlight === 'number' ? [sample.outboundInFlight] : [],
      );
      const states: string[] = [];
      for (const sample of service.samples) {
        if (sample.t < phase.startS || sample.t > phase.endS || !sample.circuitState) continue;
        if (states.at(-1) !== sample.circuitState) states.push(sample.circuitState);
      }
      const seconds = phase.endS - phase.startS;
      return {
        service: service.service,
        phase: phase.name,
        requestsPerSecond:
          requests === null || seconds <= 0 ? null : Math.round((requests / seconds) * 10) / 10,
        attemptsPerCall: calls && attempts !== null ? Math.round((attempts / calls) * 100) / 100 : null,
        bulkheadRejections: delta(service.samples, 'bulkheadRejectionsTotal', phase),
        outboundInFlightMax: outbound.length > 0 ? Math.max(...outbound) : null,
        circuitStates: states,
      };
    }),
  );
}
