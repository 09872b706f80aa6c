import type { LinkName } from './topology.ts';

/**
 * The fault vocabulary. Each factory returns plain data; a runtime backend turns it into Toxiproxy
 * toxics (or process actions), and the report shows the same names.
 *
 * @example
 *   partition('payment-api')            // data dropped both ways, connections hang
 *   latency('payment-api', { ms: 200 }) // +200 ms each way
 */
export type Direction = 'both' | 'upstream' | 'downstream';

export type Fault =
  | { kind: 'latency'; link: LinkName; ms: number; jitterMs: number; direction: Direction }
  | { kind: 'partition'; link: LinkName; direction: Direction }
  | { kind: 'outage'; link: LinkName }
  | { kind: 'reset'; link: LinkName; afterMs: number }
  | { kind: 'bandwidth'; link: LinkName; kilobytesPerSecond: number; direction: Direction }
  | { kind: 'slowClose'; link: LinkName; delayMs: number }
  | { kind: 'slicer'; link: LinkName; averageBytes: number; variationBytes: number; delayMicros: number }
  | { kind: 'limitData'; link: LinkName; bytes: number };

export type FaultKind = Fault['kind'];

/** Adds `ms` (± `jitterMs`) to data crossing the link; with `direction: 'both'` a round trip pays it twice. */
export function latency(
  link: LinkName,
  options: { ms: number; jitterMs?: number; direction?: Direction },
): Fault {
  return {
    kind: 'latency',
    link,
    ms: options.ms,
    jitterMs: options.jitterMs ?? 0,
    direction: options.direction ?? 'downstream',
  };
}

/** Drops all data on the link and keeps connections open: callers hang until their own deadline. */
export function partition(link: LinkName, options: { direction?: Direction } = {}): Fault {
  return { kind: 'partition', link, direction: options.direction ?? 'both' };
}

/** Takes the link down: new connections are refused and live ones are cut. */
export function outage(link: LinkName): Fault {
  return { kind: 'outage', link };
}

/** Resets connections (TCP RST) after `afterMs` of data. */
export function reset(link: LinkName, options: { afterMs?: number } = {}): Fault {
  return { kind: 'reset', link, afterMs: options.afterMs ?? 0 };
}

export function bandwidth(
  link: LinkName,
  options: { kilobytesPerSecond: number; direction?: Direction },
): Fault {
  return {
    kind: 'bandwidth',
    link,
    kilobytesPerSecond: options.kilobytesPerSecond,
    direction: options.direction ?? 'downstream',
  };
}

export function slowClose(link: LinkName, options: { delayMs: number }): Fault {
  return { kind: 'slowClose', link, delayMs: options.delayMs };
}

export function slicer(
  link: LinkName,
  options: { averageBytes: number; variationBytes?: number; delayMicros?: number },
): Fault {
  return {
    kind: 'slicer',
    link,
    averageBytes: options.averageBytes,
    variationBytes: options.variationBytes ?? 0,
    delayMicros: options.delayMicros ?? 0,
  };
}

export function limitData(link: LinkName, options: { bytes: number }): Fault {
  return { kind: 'limitData', link, bytes: options.bytes };
}

/** A one-line description for timelines and reports. */
export function describeFault(fault: Fault): string {
  switch (fault.kind) {
    case 'latency':
      return `+${fault.ms} ms${fault.jitterMs ? ` ± ${fault.jitterMs} ms` : ''} (${fault.direction}) on ${fault.link}`;
    case 'partition':
      return `${fault.link} partitioned (${fault.direction}): data dropped, connections hang`;
    case 'outage':
      return `${fault.link} down: connections refused, live ones cut`;
    case 'reset':
      return `${fault.link} resets connections after ${fault.afterMs} ms`;
    case 'bandwidth':
      return `${fault.link} limited to ${fault.kilobytesPerSecond} KB/s (${fault.direction})`;
    case 'slowClose':
      return `${fault.link} delays closing sockets by ${fault.delayMs} ms`;
    case 'slicer':
      return `${fault.link} slices data into ~${fault.averageBytes}-byte pieces`;
    case 'limitData':
      return `${fault.link} closes connections after ${fault.bytes} bytes`;
  }
}

/** What a Toxiproxy backend must do for a fault: disable the proxy, or add these toxics. */
export type ToxiproxyPlan =
  | { action: 'disable' }
  | {
      action: 'toxics';
      toxics: { type: string; stream: 'upstream' | 'downstream'; attributes: Record<string, number> }[];
    };

function streamsOf(direction: Direction): ('upstream' | 'downstream')[] {
  return direction === 'both' ? ['upstream', 'downstream'] : [direction];
}

/** Pure translation of a fault into Toxiproxy operations (see FACTS.md for the toxics' semantics). */
export function planToxiproxy(fault: Fault): ToxiproxyPlan {
  const onStreams = (
    direction: Direction,
    type: string,
    attributes: Record<string, number>,
  ): ToxiproxyPlan => ({
    action: 'toxics',
    toxics: streamsOf(direction).map((stream) => ({ type, stream, attributes })),
  });
  switch (fault.kind) {
    case 'outage':
      return { action: 'disable' };
    case 'latency':
      return onStreams(fault.direction, 'latency', { latency: fault.ms, jitter: fault.jitterMs });
    case 'partition':
      // timeout 0: data is dropped and the connection is never closed until the toxic goes away.
      return onStreams(fault.direction, 'timeout', { timeout: 0 });
    case 'reset':
      return onStreams('downstream', 'reset_peer', { timeout: fault.afterMs });
    case 'bandwidth':
      return onStreams(fault.direction, 'bandwidth', { rate: fault.kilobytesPerSecond });
    case 'slowClose':
      return onStreams('downstream', 'slow_close', { delay: fault.delayMs });
    case 'slicer':
      return onStreams('downstream', 'slicer', {
        average_size: fault.averageBytes,
        size_variation: fault.variationBytes,
        delay: fault.delayMicros,
      });
    case 'limitData':
      return onStreams('downstream', 'limit_data', { bytes: fault.bytes });
  }
}
