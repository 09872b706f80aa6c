/**
 * The faults of a results.json timeline as Fault values the diagram can draw. A window written by this
 * lab carries `definition`, the fault as the scenario wrote it; an older file has only the kind, the
 * target and the description, and the fault is read back from those.
 */
import type { FaultWindow } from '../results.ts';
import { faultSchema } from '../scenario/scenario-schema.ts';
import { FAULT_KINDS, type Fault, type FaultKind } from '../vocabulary/faults.ts';

function isFaultKind(value: string): value is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(value);
}

/**
 * A recorded fault as a Fault, or undefined when it cannot be told what it was (an unknown kind, a
 * missing amount): the diagram then leaves it out rather than draw a guess.
 *
 * @example
 *   faultOfWindow({ fault: 'latency', link: 'payment-api', description: '+200 ms (downstream) on payment-api', … })
 *   // { kind: 'latency', link: 'payment-api', ms: 200, jitterMs: 0, direction: 'downstream' }
 */
export function faultOfWindow(window: FaultWindow): Fault | undefined {
  if (window.definition) return checkedFault(window.definition);
  if (!isFaultKind(window.fault)) return undefined;
  return checkedFault(readDescription(window.fault, window.link, window.description));
}

/** The record as a Fault when it is one by the scenario files' own schema (every field of its kind, each valid). */
function checkedFault(record: Readonly<Record<string, unknown>>): Fault | undefined {
  const parsed = faultSchema.safeParse(upgradeFlood(record));
  return parsed.success ? parsed.data : undefined;
}

/**
 * A flood recorded before floods had a load model (`{ kind: 'flood', route, ratePerSecond }`) was an
 * open-model one: it becomes `load: { model: 'open', ratePerSecond }`.
 */
function upgradeFlood(record: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  if (record.kind !== 'flood' || 'load' in record || !('ratePerSecond' in record)) return record;
  const { ratePerSecond, ...rest } = record;
  return { ...rest, load: { model: 'open', ratePerSecond } };
}

/**
 * The fields of a fault read from the words describeFault wrote. What a factory defaults (a direction,
 * a jitter) takes that default when the words lack it; an amount the fault needs does not.
 */
function readDescription(kind: FaultKind, target: string, description: string): Record<string, unknown> {
  const amount = (pattern: RegExp): number | undefined => {
    const value = pattern.exec(description)?.[1];
    return value === undefined ? undefined : Number(value);
  };
  const direction = (fallback: string) => /\((both|upstream|downstream)\)/.exec(description)?.[1] ?? fallback;
  const number = String.raw`(\d+(?:\.\d+)?)`;
  switch (kind) {
    case 'latency':
      return {
        kind,
        link: target,
        ms: amount(new RegExp(String.raw`^\+${number} ms`)),
        jitterMs: amount(new RegExp(String.raw`± ${number} ms`)) ?? 0,
        direction: direction('downstream'),
      };
    case 'partition':
      return { kind, link: target, direction: direction('both') };
    case 'outage':
      return { kind, link: target };
    case 'reset':
      return { kind, link: target, afterMs: amount(new RegExp(String.raw`after ${number} ms`)) ?? 0 };
    case 'bandwidth':
      return {
        kind,
        link: target,
        kilobytesPerSecond: amount(new RegExp(String.raw`${number} KB/s`)),
        direction: direction('downstream'),
      };
    case 'slowClose':
      return { kind, link: target, delayMs: amount(new RegExp(String.raw`by ${number} ms`)) };
    case 'slicer':
      return {
        kind,
        link: target,
        averageBytes: amount(new RegExp(String.raw`~${number}-byte`)),
        variationBytes: 0,
        delayMicros: 0,
      };
    case 'limitData':
      return { kind, link: target, bytes: amount(new RegExp(String.raw`after ${number} bytes`)) };
    case 'dnsFailure':
      return {
        kind,
        name: target.replace(/ \(DNS\)$/, ''),
        mode: /\btimeout\b/.test(description)
          ? 'timeout'
          : /\bSERVFAIL\b/.test(description)
            ? 'servfail'
            : /\bNXDOMAIN\b/.test(description)
              ? 'nxdomain'
              : undefined,
      };
    case 'crash':
    case 'stall':
      return { kind, service: target };
    case 'deploy': {
      const drainS = amount(new RegExp(String.raw`up to ${number} s to drain`));
      const version = /redeployed as (\S+) /.exec(description)?.[1];
      return {
        kind,
        service: target,
        ...(version ? { version } : {}),
        drainMs: drainS === undefined ? undefined : drainS * 1000,
      };
    }
    case 'dbOutage':
      return { kind, target: target.replace(/ database$/, '') };
    case 'dbLatency':
      return {
        kind,
        target: target.replace(/ database$/, ''),
        ms: amount(new RegExp(String.raw`^\+${number} ms`)),
        jitterMs: 0,
      };
    case 'flood': {
      const connections = amount(new RegExp(String.raw`${number} connections`));
      return {
        kind,
        route: target.replace(/ route$/, ''),
        load:
          connections === undefined
            ? { model: 'open', ratePerSecond: amount(new RegExp(String.raw`\+${number} requests/s`)) }
            : { model: 'closed', connections },
      };
    }
  }
}
