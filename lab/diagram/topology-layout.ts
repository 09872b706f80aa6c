/**
 * Where everything of a deployment sits on its diagram, computed from the wiring the runtimes start
 * (planWiring and LINKS), so the picture cannot drift from what runs. Left to right: the load generator,
 * the services (callers above the services they call), the databases on the PostgreSQL server.
 */
import { MODULE_SCHEMAS } from '../../services/modular/module-schemas.ts';
import { planWiring } from '../runtime/deployment-wiring.ts';
import { LINKS, ROUTES, ROUTE_TARGETS, type DeploymentName, type LinkName } from '../vocabulary/topology.ts';
import { extentAlong, textWidth, unit, type Box, type Point } from './svg.ts';

export type NodeKind = 'load' | 'service' | 'database' | 'dns';

export interface NodeLayout {
  /** The name the topology gives it (`load`, `signup-service`, `postgres (signup)`) or `dns-server`. */
  name: string;
  kind: NodeKind;
  box: Box;
  label: string;
  detail: string;
  /**
   * Boxes drawn inside this one: the modules of a modular process, the schemas of its database. A process's
   * consecutive modules are joined by an arrow named `innerCall`.
   */
  compartments?: readonly CompartmentLayout[];
  innerCall?: string;
}

export interface CompartmentLayout {
  label: string;
  detail: string;
  box: Box;
}

/** Where fault badges of a link are stacked, so they stay clear of the other links. */
export type BadgeSide = 'above' | 'below' | 'right';

export interface LinkLayout {
  link: LinkName;
  from: string;
  to: string;
  start: Point;
  end: Point;
  /** The Toxiproxy proxy drawn on the link, with the link's name in it. */
  pill: Box;
  badgeSide: BadgeSide;
}

/** A caller resolving service names through the lab's DNS server (not through Toxiproxy). */
export interface DnsLookupLayout {
  caller: string;
  names: string[];
  start: Point;
  end: Point;
  /** `looks up payment-service`, right-aligned beside the line; its baseline is at the box's bottom. */
  label: string;
  labelBox: Box;
}

export const LOOKUP_FONT_SIZE = 12;

export interface TopologyLayout {
  deployment: DeploymentName;
  width: number;
  /** Where the drawing starts below the title, if any. */
  titleHeight: number;
  nodes: NodeLayout[];
  links: LinkLayout[];
  /** The one PostgreSQL server holding every database of the deployment. */
  postgres: Box;
  dnsLookups: DnsLookupLayout[];
  /** The highest baseline of the legend: lower when fault badges need the room. */
  legendY: number;
}

export const DIAGRAM_WIDTH = 780;
export const LOAD_NODE = 'load';
export const DNS_NODE = 'dns-server';
export const PILL_FONT_SIZE = 12;

const PAD = 16;
const TITLE_HEIGHT = 30;
const LOAD_BOX = { x: PAD, width: 116, height: 58 };
const SERVICE_BOX = { x: 308, width: 170, height: 62 };
const POSTGRES_BOX = { x: 618, width: DIAGRAM_WIDTH - PAD - 618 };
const DATABASE_BOX = { width: 120, height: 58 };
const DNS_BOX = { width: 170, height: 50 };
/** Vertical room above the first row: enough for badges over the upper links, or for the DNS server. */
const ABOVE_ROWS = 44;
const DNS_AREA = 104;
const ROW_PITCH = 140;
const BELOW_ROWS = 34;
const PILL_HEIGHT = 20;
/** Room kept on a link between its proxy and where it arrives, for a cut or a cross. */
const MARK_ROOM = 40;
/**
 * Services made of modules, each module with a schema of its own in the service's one database: the
 * modular monolith. Its process box holds a box per module, its database a box per schema.
 */
const MODULES_OF: Readonly<Record<string, readonly string[]>> = { modular: Object.values(MODULE_SCHEMAS) };
const MODULE_BOX = { inset: 10, top: 46, height: 40, gap: 28, bottom: 10 };
const SCHEMA_BOX = { inset: 10, top: 50, height: 30, gap: 8, bottom: 16 };
/** What a modular process's modules call each other through: the interface the domain is written against. */
const MODULE_INTERFACE = 'PaymentGateway';

function stackedHeight(
  spec: { top: number; height: number; gap: number; bottom: number },
  count: number,
): number {
  return spec.top + count * spec.height + (count - 1) * spec.gap + spec.bottom;
}

function stackedBoxes(
  parent: Box,
  spec: { inset: number; top: number; height: number; gap: number },
  count: number,
): Box[] {
  return Array.from({ length: count }, (_, index) => ({
    x: parent.x + spec.inset,
    y: parent.y + spec.top + index * (spec.height + spec.gap),
    width: parent.width - 2 * spec.inset,
    height: spec.height,
  }));
}

/**
 * The diagram's geometry for one deployment.
 *
 * @example layoutTopology('split').nodes.map((node) => node.name)
 *   // ['load', 'signup-service', 'payment-service', 'postgres (signup)', 'postgres (payment)', 'dns-server']
 */
export function layoutTopology(deployment: DeploymentName, options: { titled: boolean }): TopologyLayout {
  const wiring = planWiring(deployment);
  // Start order puts callees first; drawn the other way round, every call between services points down.
  const services = [...wiring.services].reverse();
  const titleHeight = options.titled ? TITLE_HEIGHT : 0;
  const hasDns = wiring.dnsRecords.length > 0;
  // A process drawn with its modules inside is taller; the rows grow around their centres.
  const tallest = Math.max(
    SERVICE_BOX.height,
    ...services.map((service) => serviceHeight(service.name)),
    ...services.map((service) => databaseHeight(service.name)),
  );
  const extra = (tallest - SERVICE_BOX.height) / 2;
  const rowsTop = PAD + titleHeight + (hasDns ? DNS_AREA : ABOVE_ROWS) + extra;
  const rowCenter = (row: number) => rowsTop + SERVICE_BOX.height / 2 + row * ROW_PITCH;
  const rowOf = new Map(services.map((service, row) => [service.name, row]));
  const rowsBottom = rowCenter(services.length - 1) + SERVICE_BOX.height / 2 + extra;

  const serviceNodes: NodeLayout[] = services.map((service, row) => {
    const height = serviceHeight(service.name);
    const box = { ...SERVICE_BOX, height, y: rowCenter(row) - height / 2 };
    const modules = MODULES_OF[service.name];
    if (!modules) {
      return {
        name: service.name,
        kind: 'service',
        box,
        label: service.name,
        detail: routesAnsweredBy(deployment, service.name),
      };
    }
    return {
      name: service.name,
      kind: 'service',
      box,
      label: service.name,
      detail: routesAnsweredBy(deployment, service.name),
      compartments: stackedBoxes(box, MODULE_BOX, modules.length).map((moduleBox, index) => ({
        label: `${modules[index] ?? ''} module`,
        detail: `own pool, schema ${modules[index] ?? ''}`,
        box: moduleBox,
      })),
      innerCall: MODULE_INTERFACE,
    };
  });

  const edgeRows = services.flatMap((service, row) => (service.edgeLinks.length > 0 ? [row] : []));
  const loadCenter = mean(edgeRows.map(rowCenter));
  const loadNode: NodeLayout = {
    name: LOAD_NODE,
    kind: 'load',
    box: { ...LOAD_BOX, y: loadCenter - LOAD_BOX.height / 2 },
    label: 'load generator',
    detail: 'open model',
  };

  // Each database sits level with the services that own it.
  const databaseNodes: NodeLayout[] = wiring.databases
    .filter((database, index, all) => all.indexOf(database) === index)
    .map((database) => {
      const owners = services.filter((service) => service.database.name === database);
      const center = mean(owners.map((owner) => rowCenter(rowOf.get(owner.name) ?? 0)));
      const schemas = owners.flatMap((owner) => MODULES_OF[owner.name] ?? []);
      const height = Math.max(...owners.map((owner) => databaseHeight(owner.name)));
      const box = {
        x: POSTGRES_BOX.x + (POSTGRES_BOX.width - DATABASE_BOX.width) / 2,
        y: center - height / 2,
        ...DATABASE_BOX,
        height,
      };
      const node: NodeLayout = {
        name: `postgres (${database})`,
        kind: 'database',
        box,
        label: database,
        detail: 'database',
      };
      if (schemas.length === 0) return node;
      return {
        ...node,
        detail: `${schemas.length} schemas`,
        compartments: stackedBoxes(box, SCHEMA_BOX, schemas.length).map((schemaBox, index) => ({
          label: `schema ${schemas[index] ?? ''}`,
          detail: '',
          box: schemaBox,
        })),
      };
    });
  const postgresTop = Math.min(...databaseNodes.map((node) => node.box.y)) - 30;
  const postgresBottom = Math.max(...databaseNodes.map((node) => node.box.y + node.box.height)) + 12;
  const postgres: Box = { ...POSTGRES_BOX, y: postgresTop, height: postgresBottom - postgresTop };

  const nodes: NodeLayout[] = [loadNode, ...serviceNodes, ...databaseNodes];
  const dnsLookups: DnsLookupLayout[] = [];
  if (hasDns) {
    const callers = [...new Set(wiring.dnsRecords.map((record) => LINKS[record.link].from as string))];
    const firstCaller = serviceNodes.find((node) => callers.includes(node.name)) ?? serviceNodes[0];
    if (!firstCaller) throw new Error(`bug: ${deployment} resolves names but runs no service`);
    const dnsBox: Box = {
      x: firstCaller.box.x + (firstCaller.box.width - DNS_BOX.width) / 2,
      y: PAD + titleHeight + 4,
      ...DNS_BOX,
    };
    nodes.push({
      name: DNS_NODE,
      kind: 'dns',
      box: dnsBox,
      label: 'DNS server',
      detail: `answers ${wiring.dnsRecords.map((record) => record.name).join(', ')}`,
    });
    for (const caller of callers) {
      const node = serviceNodes.find((candidate) => candidate.name === caller);
      if (!node) throw new Error(`bug: DNS caller ${caller} is not a service of ${deployment}`);
      const names = wiring.dnsRecords
        .filter((record) => LINKS[record.link].from === caller)
        .map((record) => record.name);
      const start = { x: centerX(node.box) - 40, y: node.box.y };
      const end = { x: start.x, y: dnsBox.y + dnsBox.height };
      const label = `looks up ${names.join(', ')}`;
      const labelWidth = textWidth(label, LOOKUP_FONT_SIZE);
      const baseline = (start.y + end.y) / 2 + 4;
      dnsLookups.push({
        caller,
        names,
        start,
        end,
        label,
        labelBox: { x: start.x - 8 - labelWidth, y: baseline - 12, width: labelWidth, height: 12 },
      });
    }
  }

  const nodeNamed = (name: string): NodeLayout => {
    const node = nodes.find((candidate) => candidate.name === name);
    if (!node) throw new Error(`bug: no node ${name} on the ${deployment} diagram`);
    return node;
  };
  const middle = (rowCenter(0) + rowCenter(services.length - 1)) / 2;
  const edgeLinks = wiring.links.filter((link) => LINKS[link].from === LOAD_NODE);
  const links: LinkLayout[] = wiring.links.map((link) => {
    const { from, to } = LINKS[link];
    const source = nodeNamed(from);
    const target = nodeNamed(to);
    let start: Point;
    let end: Point;
    if (source.kind === 'load') {
      // Fan the edge links out over the load generator's right side.
      const spread = source.box.height - 24;
      const index = edgeLinks.indexOf(link);
      const offset = edgeLinks.length > 1 ? -spread / 2 + (spread * index) / (edgeLinks.length - 1) : 0;
      start = { x: right(source.box), y: centerY(source.box) + offset };
      end = { x: target.box.x, y: centerY(target.box) };
    } else if (target.kind === 'database') {
      start = { x: right(source.box), y: centerY(source.box) };
      end = { x: target.box.x, y: centerY(target.box) };
    } else {
      // A call between services: down from the caller to the callee.
      start = { x: centerX(source.box) + 24, y: source.box.y + source.box.height };
      end = { x: centerX(target.box) + 24, y: target.box.y };
    }
    const pillWidth = textWidth(link, PILL_FONT_SIZE, 'mono') + 16;
    // The proxy sits mid-link, or nearer the start when the link is short, so a cut or a cross fits
    // between it and the arrow.
    const direction = unit(start, end);
    const length = Math.hypot(end.x - start.x, end.y - start.y);
    const extent = extentAlong({ x: 0, y: 0, width: pillWidth, height: PILL_HEIGHT }, direction);
    const along = Math.max(extent + 6, Math.min(length / 2, length - MARK_ROOM - extent));
    const pillCenter = { x: start.x + direction.x * along, y: start.y + direction.y * along };
    const vertical = Math.abs(end.y - start.y) > Math.abs(end.x - start.x);
    return {
      link,
      from,
      to,
      start,
      end,
      pill: {
        x: pillCenter.x - pillWidth / 2,
        y: pillCenter.y - PILL_HEIGHT / 2,
        width: pillWidth,
        height: PILL_HEIGHT,
      },
      badgeSide: vertical ? 'right' : pillCenter.y < middle - 1 ? 'above' : 'below',
    };
  });

  const legendY = rowsBottom + BELOW_ROWS + 12;
  return {
    deployment,
    width: DIAGRAM_WIDTH,
    titleHeight,
    nodes,
    links,
    postgres,
    dnsLookups,
    legendY,
  };
}

function serviceHeight(service: string): number {
  const modules = MODULES_OF[service];
  return modules ? stackedHeight(MODULE_BOX, modules.length) : SERVICE_BOX.height;
}

/** The height of the database a service owns: taller when it holds a schema per module. */
function databaseHeight(service: string): number {
  const modules = MODULES_OF[service];
  return modules ? stackedHeight(SCHEMA_BOX, modules.length) : DATABASE_BOX.height;
}

/** `signup · checkout`: the routes the load generator sends to this service, from ROUTE_TARGETS. */
function routesAnsweredBy(deployment: DeploymentName, service: string): string {
  const routes = ROUTES.filter((route) => ROUTE_TARGETS[deployment][route].service === service);
  return routes.length > 0 ? routes.join(' · ') : 'called by services';
}

function mean(values: readonly number[]): number {
  if (values.length === 0) throw new Error('bug: the mean of nothing');
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

export function centerX(box: Box): number {
  return box.x + box.width / 2;
}

export function centerY(box: Box): number {
  return box.y + box.height / 2;
}

function right(box: Box): number {
  return box.x + box.width;
}
