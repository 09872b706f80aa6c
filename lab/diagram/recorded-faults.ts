/**
 * The faults of a results.json timeline as Fault values the diagram can draw. A window written by this
 * lab carries `definition`, the fault as the scenario wrote it; an older file has only the kind, the
 * target and the description, and the fault is read back from those.
 */
import type { FaultWindow } from '../results.ts';
import {
  DATABASE_TARGETS,
  DIRECTIONS,
  DNS_FAILURE_MODES,
  DNS_NAMES,
  FAULT_KINDS,
  SERVICES,
  type Fault,
  type FaultKind,
} from '../vocabulary/faults.ts';
import { LINK_NAMES, ROUTES } from '../vocabulary/topology.ts';

/** A field of a fault: a number, or one of a few words. */
type FieldSpec = 'number' | readonly string[];

// The mapped type makes the compiler reject a kind or a field left out, so a new fault kind cannot be
// recorded in results.json without the diagram being able to read it back.
const FAULT_FIELDS: {
  [Kind in FaultKind]: Record<Exclude<keyof Extract<Fault, { kind: Kind }>, 'kind'>, FieldSpec>;
} = {
  latency: { link: LINK_NAMES, ms: 'number', jitterMs: 'number', direction: DIRECTIONS },
  partition: { link: LINK_NAMES, direction: DIRECTIONS },
  outage: { link: LINK_NAMES },
  reset: { link: LINK_NAMES, afterMs: 'number' },
  bandwidth: { link: LINK_NAMES, kilobytesPerSecond: 'number', direction: DIRECTIONS },
  slowClose: { link: LINK_NAMES, delayMs: 'number' },
  slicer: { link: LINK_NAMES, averageBytes: 'number', variationBytes: 'number', delayMicros: 'number' },
  limitData: { link: LINK_NAMES, bytes: 'number' },
  dnsFailure: { name: DNS_NAMES, mode: DNS_FAILURE_MODES },
  crash: { service: SERVICES },
  dbOutage: { target: DATABASE_TARGETS },
  dbLatency: { target: DATABASE_TARGETS, ms: 'number', jitterMs: 'number' },
  flood: { route: ROUTES, ratePerSecond: 'number' },
};

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

/** The record as a Fault when every field of its kind is there with a value of the right sort. */
function checkedFault(record: Readonly<Record<string, string | number | undefined>>): Fault | undefined {
  const kind = record.kind;
  if (typeof kind !== 'string' || !isFaultKind(kind)) return undefined;
  const fields: Record<string, FieldSpec> = FAULT_FIELDS[kind];
  const fault: Record<string, string | number> = { kind };
  for (const [field, spec] of Object.entries(fields)) {
    const value = record[field];
    const fits =
      spec === 'number'
        ? typeof value === 'number' && Number.isFinite(value)
        : typeof value === 'string' && spec.includes(value);
    if (!fits || value === undefined) return undefined;
    fault[field] = value;
  }
  // Every field of the kind was checked against FAULT_FIELDS, which the compiler ties to Fault.
  return fault as unknown as Fault;
}

/**
 * The fields of a fault read from the words describeFault wrote. What a factory defaults (a direction,
 * a jitter) takes that default when the words lack it; an amount the fault needs does not.
 */
function readDescription(
  kind: FaultKind,
  target: string,
  description: string,
): Record<string, string | number | undefined> {
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
      return { kind, service: target };
    case 'dbOutage':
      return { kind, target: target.replace(/ database$/, '') };
    case 'dbLatency':
      return {
        kind,
        target: target.replace(/ database$/, ''),
        ms: amount(new RegExp(String.raw`^\+${number} ms`)),
        jitterMs: 0,
      };
    case 'flood':
      return {
        kind,
        route: target.replace(/ route$/, ''),
        ratePerSecond: amount(new RegExp(String.raw`\+${number} requests/s`)),
      };
  }
}
