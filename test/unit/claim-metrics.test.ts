import { describe, expect, it } from 'vitest';
import {
  CLAIM_METRIC_FAMILIES,
  CLAIM_METRICS,
  claimMetricUnit,
  claimUnit,
  parseClaimMetric,
  type ClaimMetric,
} from '../../lab/vocabulary/claim-metrics.ts';

/** Fills a documented syntax with the first allowed value of each parameter. */
function example(syntax: string): string {
  return syntax
    .replace('<cause>', 'deadline')
    .replace('<service>', 'payment-service')
    .replace(/<([^|>]+)[^>]*>/g, '$1');
}

function parsed(text: string): ClaimMetric {
  const metric = parseClaimMetric(text);
  if (typeof metric === 'string') throw new Error(metric);
  return metric;
}

describe('the claim metrics table', () => {
  it.each(CLAIM_METRIC_FAMILIES)('%s parses the syntax it documents', (family) => {
    const text = example(CLAIM_METRICS[family].syntax);
    expect(text).not.toMatch(/[<>|]/);
    expect(parsed(text).family).toBe(family);
  });

  it('parses the parameters into fields', () => {
    expect(parsed('successRate')).toEqual({ family: 'successRate' });
    expect(parsed('causeShare:circuit_open')).toEqual({ family: 'causeShare', cause: 'circuit_open' });
    expect(parsed('audit:failedButCommitted')).toEqual({ family: 'audit', count: 'failedButCommitted' });
    expect(parsed('service:signup-service:outboundInFlightMax')).toEqual({
      family: 'service',
      service: 'signup-service',
      field: 'outboundInFlightMax',
    });
  });

  it('says what is wrong and how to write it instead', () => {
    expect(parseClaimMetric('latencyP95Ms')).toMatch(
      /^"latencyP95Ms" is not a known metric; known: successRate, latencyP50Ms, .*causeShare:<cause>/,
    );
    expect(parseClaimMetric('successRate:split')).toBe('successRate takes no parameters (got ":split")');
    expect(parseClaimMetric('causeShare')).toBe(
      'causeShare needs one cause in lower case, e.g. causeShare:deadline',
    );
    expect(parseClaimMetric('causeShare:Deadline')).toMatch(/e\.g\. causeShare:deadline/);
    expect(parseClaimMetric('audit:orphans')).toBe(
      'audit needs one of orphanUsers, doubleCharges, acknowledgedWithoutRow, failedButCommitted, e.g. audit:orphanUsers',
    );
    expect(parseClaimMetric('service:payment-service')).toBe(
      'service needs a service and a field, e.g. service:payment-service:attemptsPerCall',
    );
    expect(parseClaimMetric('service:billing:attemptsPerCall')).toBe(
      'service "billing" is not one of monolith, modular, signup-service, payment-service',
    );
    expect(parseClaimMetric('service:monolith:retries')).toBe(
      'service field "retries" is not one of requestsPerSecond, attemptsPerCall, bulkheadRejections, outboundInFlightMax',
    );
    // Only the table's own families count, not what every object inherits.
    expect(parseClaimMetric('toString')).toMatch(/is not a known metric/);
  });

  it('gives each metric its unit', () => {
    const unit = (text: string) => claimMetricUnit(parsed(text));
    expect(unit('successRate')).toBe('ratio');
    expect(unit('causeShare:slow_ms')).toBe('ratio');
    expect(unit('latencyP99Ms')).toBe('ms');
    expect(unit('failureLatencyP50Ms')).toBe('ms');
    expect(unit('firstFailureSeconds')).toBe('s');
    expect(unit('recoverySeconds')).toBe('s');
    expect(unit('audit:orphanUsers')).toBe('count');
    expect(unit('service:payment-service:requestsPerSecond')).toBe('perSecond');
    expect(unit('service:payment-service:attemptsPerCall')).toBe('count');
  });

  it('makes a ratio comparison a factor, and keeps the unit of a difference', () => {
    const latency = parsed('latencyP99Ms');
    expect(claimUnit(latency)).toBe('ms');
    expect(claimUnit(latency, { phase: 'baseline' })).toBe('factor');
    expect(claimUnit(latency, { deployment: 'monolith', by: 'ratio' })).toBe('factor');
    expect(claimUnit(latency, { deployment: 'monolith', by: 'difference' })).toBe('ms');
    expect(claimUnit(parsed('successRate'), { phase: 'baseline', by: 'difference' })).toBe('ratio');
  });
});
