/**
 * Which element of a deployment's diagram each fault acts on, and how it is marked there. A fault is
 * resolved exactly as the runtimes resolve it (resolveFault), so a database fault lands on the database
 * links it really takes down, and a fault that does not touch the deployment marks nothing.
 */
import {
  describeFault,
  resolveFault,
  type Fault,
  type FaultAction,
  type FaultKind,
  type LinkFault,
} from '../vocabulary/faults.ts';
import { ROUTE_TARGETS, type DeploymentName, type LinkName } from '../vocabulary/topology.ts';
import { DNS_NODE } from './topology-layout.ts';

/** A fault to draw on the diagram, with an optional label (the phase it belongs to, in a report). */
export interface DiagramFault {
  fault: Fault;
  label?: string;
}

/** How a mark is drawn on its link: cut through, crossed out, or only a badge beside it. */
export type LinkMarkShape = 'cut' | 'cross' | 'clock' | 'badge';

export interface FaultMark {
  /** The kind of the fault as the scenario wrote it (`dbOutage`, not the `outage` it resolves to). */
  kind: FaultKind;
  /** The short text on the badge: `+200 ms`, `partitioned`, `NXDOMAIN`, `flood +40/s signup`. */
  badge: string;
  /** One line per fault drawn as this mark: its description, after its label when it has one. */
  titles: string[];
}

export interface LinkFaultMark extends FaultMark {
  shape: LinkMarkShape;
}

/** Every mark of a diagram, by element; elements without faults are absent. */
export interface DiagramMarks {
  links: Map<LinkName, LinkFaultMark[]>;
  nodes: Map<string, FaultMark[]>;
}

/**
 * Where each fault acts in `deployment`. The same fault listed twice (one partition in two phases)
 * becomes one mark whose tooltip names both.
 *
 * @example
 *   markFaults('split', [{ fault: partition('payment-api'), label: 'partition' }]).links.get('payment-api')
 *   // [{ kind: 'partition', shape: 'cut', badge: 'partitioned', titles: ['partition: payment-api partitioned …'] }]
 */
export function markFaults(deployment: DeploymentName, faults: readonly DiagramFault[]): DiagramMarks {
  const marks: DiagramMarks = { links: new Map(), nodes: new Map() };
  for (const { fault, label } of faults) {
    const line = label ? `${label}: ${describeFault(fault)}` : describeFault(fault);
    for (const action of resolveFault(fault, deployment)) {
      const placed = placeAction(deployment, fault.kind, action);
      if (placed.on === 'link') addMark(marks.links, placed.link, { ...placed.mark, titles: [line] });
      else addMark(marks.nodes, placed.node, { ...placed.mark, titles: [line] });
    }
  }
  return marks;
}

type Placement =
  | { on: 'link'; link: LinkName; mark: Omit<LinkFaultMark, 'titles'> }
  | { on: 'node'; node: string; mark: Omit<FaultMark, 'titles'> };

function placeAction(deployment: DeploymentName, kind: FaultKind, action: FaultAction): Placement {
  switch (action.type) {
    case 'link':
      return { on: 'link', link: action.fault.link, mark: { kind, ...linkMark(action.fault) } };
    case 'flood':
      return {
        on: 'link',
        link: ROUTE_TARGETS[deployment][action.route].link,
        mark: {
          kind,
          shape: 'badge',
          badge:
            action.load.model === 'open'
              ? `flood +${action.load.ratePerSecond}/s ${action.route}`
              : `flood ${action.load.connections} conn ${action.route}`,
        },
      };
    case 'crash':
      return { on: 'node', node: action.service, mark: { kind, badge: 'killed' } };
    case 'stall':
      return { on: 'node', node: action.service, mark: { kind, badge: 'frozen' } };
    case 'deploy':
      return {
        on: 'node',
        node: action.service,
        mark: { kind, badge: action.version ? `deploy ${action.version}` : 'redeploy' },
      };
    case 'dns':
      return {
        on: 'node',
        node: DNS_NODE,
        mark: {
          kind,
          badge: `${action.name}: ${action.mode === 'timeout' ? action.mode : action.mode.toUpperCase()}`,
        },
      };
  }
}

function linkMark(fault: LinkFault): { shape: LinkMarkShape; badge: string } {
  switch (fault.kind) {
    case 'partition':
      return {
        shape: 'cut',
        badge: fault.direction === 'both' ? 'partitioned' : `partitioned ${fault.direction}`,
      };
    case 'outage':
      return { shape: 'cross', badge: 'down' };
    case 'reset':
      return { shape: 'cross', badge: fault.afterMs > 0 ? `reset after ${fault.afterMs} ms` : 'reset' };
    case 'latency':
      return { shape: 'clock', badge: `+${fault.ms} ms${fault.jitterMs ? ` ±${fault.jitterMs}` : ''}` };
    case 'bandwidth':
      return { shape: 'badge', badge: `bandwidth ${fault.kilobytesPerSecond} KB/s` };
    case 'slowClose':
      return { shape: 'badge', badge: `slowClose ${fault.delayMs} ms` };
    case 'slicer':
      return { shape: 'badge', badge: `slicer ~${fault.averageBytes} B` };
    case 'limitData':
      return { shape: 'badge', badge: `limitData ${fault.bytes} B` };
  }
}

function addMark<Key, Mark extends FaultMark>(byElement: Map<Key, Mark[]>, key: Key, mark: Mark): void {
  const marks = byElement.get(key) ?? [];
  const same = marks.find((other) => other.kind === mark.kind && other.badge === mark.badge);
  if (same) {
    for (const line of mark.titles) if (!same.titles.includes(line)) same.titles.push(line);
  } else {
    marks.push(mark);
    byElement.set(key, marks);
  }
}
