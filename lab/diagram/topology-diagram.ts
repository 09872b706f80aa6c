/**
 * The picture of a deployment: the load generator, each process, each database on the PostgreSQL
 * server, the lab's DNS server, every Toxiproxy link by name, and each fault drawn on what it acts on.
 * The live view, the report (one per column) and the docs (npm run diagrams) all draw it from here.
 */
import type { FaultKind } from '../vocabulary/faults.ts';
import type { DeploymentName } from '../vocabulary/topology.ts';
import { markFaults, type DiagramFault, type FaultMark, type LinkFaultMark } from './fault-marks.ts';
import { BADGE_FONT_SIZE, placeMarks } from './mark-placement.ts';
import {
  MONO_FONT,
  PALETTE,
  SANS_FONT,
  element,
  num,
  text,
  textWidth,
  title,
  type Box,
  type Point,
  unit,
} from './svg.ts';
import {
  LOOKUP_FONT_SIZE,
  PILL_FONT_SIZE,
  centerX,
  centerY,
  layoutTopology,
  type DnsLookupLayout,
  type LinkLayout,
  type NodeLayout,
  type TopologyLayout,
} from './topology-layout.ts';

export type { DiagramFault } from './fault-marks.ts';

/**
 * The topology of one deployment as a self-contained inline SVG (no script, no external reference,
 * the same text for the same input), scaled through its viewBox. Faults that do not touch the
 * deployment are left out; faulted elements carry `data-fault` and a tooltip with the description.
 *
 * @example
 *   renderTopologyDiagram('split', [{ fault: partition('payment-api'), label: 'partition' }], { title: 'split' })
 *   // '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 780 …" …><g data-link="payment-api" data-fault="partition">…'
 */
export function renderTopologyDiagram(
  deployment: DeploymentName,
  faults: readonly DiagramFault[],
  options: { title?: string } = {},
): string {
  const layout = layoutTopology(deployment, { titled: options.title !== undefined });
  const marks = markFaults(deployment, faults);
  const placement = placeMarks(layout, marks);
  const faulted = marks.links.size + marks.nodes.size > 0;
  const name = options.title ?? `${deployment} topology`;
  const legend = drawLegend(layout, Math.max(layout.legendY, placement.bottom + 26), faulted);
  const height = Math.round(legend.bottom + 10);
  const parts = [
    title(name),
    options.title === undefined
      ? ''
      : text(options.title, { x: 16, y: 30, 'font-size': 15, 'font-weight': 600, fill: PALETTE.text }),
    drawPostgres(layout),
    ...layout.dnsLookups.map(drawDnsLookup),
    ...layout.links.map((link) =>
      drawLink(link, marks.links.get(link.link) ?? [], {
        badges: placement.linkBadges.get(link.link) ?? [],
        lineMarks: placement.lineMarks.get(link.link) ?? [],
      }),
    ),
    ...layout.nodes.map((node) =>
      drawNode(node, marks.nodes.get(node.name) ?? [], placement.nodeBadges.get(node.name) ?? []),
    ),
    legend.markup,
  ];
  return element(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      viewBox: `0 0 ${layout.width} ${height}`,
      width: layout.width,
      height,
      role: 'img',
      'aria-label': name,
      'data-deployment': deployment,
      'font-family': SANS_FONT,
      class: 'topology-diagram',
    },
    parts.join(''),
  );
}

function drawPostgres(layout: TopologyLayout): string {
  const box = layout.postgres;
  const schemas = layout.nodes.some((node) => node.kind === 'database' && node.compartments?.length);
  return element(
    'g',
    { 'data-server': 'postgres' },
    [
      title(
        schemas
          ? 'PostgreSQL: one server, one database with a schema per module'
          : 'PostgreSQL: one server, one database per service',
      ),
      element('rect', { ...boxAttributes(box), rx: 10, fill: PALETTE.panel, stroke: PALETTE.border }),
      text('PostgreSQL', {
        x: box.x + 12,
        y: box.y + 19,
        'font-size': 12,
        'font-weight': 600,
        fill: PALETTE.muted,
      }),
    ].join(''),
  );
}

function drawDnsLookup(lookup: DnsLookupLayout): string {
  return element(
    'g',
    { 'data-lookup': lookup.caller },
    [
      title(
        `${lookup.caller} resolves ${lookup.names.join(', ')} through the lab's DNS server (not through Toxiproxy)`,
      ),
      element('line', {
        ...lineAttributes(lookup.start, lookup.end),
        stroke: PALETTE.wire,
        'stroke-width': 1.4,
        'stroke-dasharray': '5 4',
      }),
      arrowHead(lookup.start, lookup.end, PALETTE.wire),
      text(lookup.label, {
        x: lookup.labelBox.x + lookup.labelBox.width,
        y: lookup.labelBox.y + lookup.labelBox.height,
        'text-anchor': 'end',
        'font-size': LOOKUP_FONT_SIZE,
        fill: PALETTE.muted,
      }),
    ].join(''),
  );
}

function drawLink(
  link: LinkLayout,
  marks: readonly LinkFaultMark[],
  placed: { badges: readonly Box[]; lineMarks: readonly Point[] },
): string {
  const faulted = marks.length > 0;
  const colour = faulted ? PALETTE.bad : PALETTE.wire;
  const pillCenter = { x: centerX(link.pill), y: centerY(link.pill) };
  const direction = unit(link.start, link.end);
  const lineEnd = { x: link.end.x - direction.x * 8, y: link.end.y - direction.y * 8 };
  const parts = [
    title(
      [
        `${link.link}: ${link.from} → ${link.to}, through Toxiproxy`,
        ...marks.flatMap((mark) => mark.titles),
      ].join('\n'),
    ),
    element('line', {
      ...lineAttributes(link.start, lineEnd),
      stroke: colour,
      'stroke-width': faulted ? 2 : 1.6,
    }),
    arrowHead(link.start, link.end, colour),
    element('rect', {
      ...boxAttributes(link.pill),
      rx: link.pill.height / 2,
      fill: faulted ? PALETTE.badSoft : PALETTE.accentSoft,
      stroke: faulted ? PALETTE.bad : PALETTE.accent,
      'stroke-width': 1.2,
    }),
    text(link.link, {
      x: pillCenter.x,
      y: pillCenter.y + 4,
      'text-anchor': 'middle',
      'font-family': MONO_FONT,
      'font-size': PILL_FONT_SIZE,
      fill: faulted ? PALETTE.faultText : PALETTE.accent,
    }),
  ];
  let onLine = 0;
  marks.forEach((mark, index) => {
    const point = mark.shape === 'cut' || mark.shape === 'cross' ? placed.lineMarks[onLine++] : undefined;
    const box = placed.badges[index];
    parts.push(
      element(
        'g',
        { class: 'fault', 'data-link': link.link, 'data-fault': mark.kind },
        title(mark.titles.join('\n')) +
          (point ? onLineMark(direction, point, mark.shape) : '') +
          (box ? badge(box, mark.badge, mark.shape === 'clock') : ''),
      ),
    );
  });
  return element(
    'g',
    { class: 'link', 'data-link': link.link, 'data-fault': faultKinds(marks) },
    parts.join(''),
  );
}

/** A cut (two bars with a gap between) or a cross on the line itself. */
function onLineMark(direction: Point, center: Point, shape: LinkFaultMark['shape']): string {
  const across = { x: -direction.y, y: direction.x };
  const at = (forward: number, sideways: number): Point => ({
    x: center.x + direction.x * forward + across.x * sideways,
    y: center.y + direction.y * forward + across.y * sideways,
  });
  if (shape === 'cut') {
    return [
      element('line', { ...lineAttributes(at(-4, 0), at(4, 0)), stroke: '#fff', 'stroke-width': 6 }),
      element('line', { ...lineAttributes(at(-4, -9), at(-4, 9)), stroke: PALETTE.bad, 'stroke-width': 3 }),
      element('line', { ...lineAttributes(at(4, -9), at(4, 9)), stroke: PALETTE.bad, 'stroke-width': 3 }),
    ].join('');
  }
  const size = 7;
  const cross = (stroke: string, width: number) =>
    element('path', {
      d: `M${pointText(at(-size, -size))}L${pointText(at(size, size))}M${pointText(at(-size, size))}L${pointText(at(size, -size))}`,
      stroke,
      'stroke-width': width,
      'stroke-linecap': 'round',
    });
  return cross('#fff', 6) + cross(PALETTE.bad, 3);
}

function badge(box: Box, label: string, clock: boolean): string {
  const icon = clock ? clockIcon({ x: box.x + 12, y: centerY(box) }) : '';
  return [
    element('rect', {
      ...boxAttributes(box),
      rx: 4,
      fill: PALETTE.badSoft,
      stroke: PALETTE.bad,
      'stroke-width': 1,
    }),
    icon,
    text(label, {
      x: box.x + 7 + (clock ? 16 : 0),
      y: centerY(box) + 4,
      'font-size': BADGE_FONT_SIZE,
      'font-weight': 600,
      fill: PALETTE.faultText,
    }),
  ].join('');
}

function clockIcon(center: Point): string {
  return [
    element('circle', {
      cx: center.x,
      cy: center.y,
      r: 5.5,
      fill: '#fff',
      stroke: PALETTE.faultText,
      'stroke-width': 1.4,
    }),
    element('path', {
      d: `M${pointText(center)}V${num(center.y - 3.6)}M${pointText(center)}H${num(center.x + 2.8)}`,
      stroke: PALETTE.faultText,
      'stroke-width': 1.3,
      'stroke-linecap': 'round',
      fill: 'none',
    }),
  ].join('');
}

function drawNode(node: NodeLayout, marks: readonly FaultMark[], badges: readonly Box[]): string {
  const faulted = marks.length > 0;
  const crashed = marks.some((mark) => mark.kind === 'crash');
  const { box } = node;
  const shape =
    node.kind === 'database'
      ? cylinder(box, faulted)
      : element('rect', {
          ...boxAttributes(box),
          rx: node.kind === 'service' ? 8 : 6,
          fill: faulted ? PALETTE.badSoft : node.kind === 'service' ? PALETTE.service : PALETTE.soft,
          stroke: faulted ? PALETTE.bad : node.kind === 'service' ? PALETTE.accent : PALETTE.border,
          'stroke-width': faulted || node.kind === 'service' ? 1.5 : 1,
          'stroke-dasharray': crashed ? '6 4' : undefined,
        });
  const compartments = node.compartments ?? [];
  // With boxes inside, the name and detail head the box instead of centring in it.
  const labelY =
    compartments.length > 0
      ? box.y + (node.kind === 'database' ? 26 : 20)
      : node.kind === 'database'
        ? box.y + box.height / 2 + 6
        : centerY(box) - 2;
  const parts = [
    title([nodeTitle(node), ...marks.flatMap((mark) => mark.titles)].join('\n')),
    shape,
    crashed ? crossOut(box) : '',
    text(node.label, {
      x: centerX(box),
      y: labelY,
      'text-anchor': 'middle',
      'font-size': node.kind === 'service' ? 15 : 13.5,
      'font-weight': node.kind === 'service' ? 600 : 500,
      fill: PALETTE.text,
    }),
    text(node.detail, {
      x: centerX(box),
      y: labelY + 16,
      'text-anchor': 'middle',
      'font-size': 12,
      fill: PALETTE.muted,
    }),
    drawCompartments(node),
    ...marks.map((mark, index) =>
      element(
        'g',
        { class: 'fault', 'data-node': node.name, 'data-fault': mark.kind },
        title(mark.titles.join('\n')) + (badges[index] ? badge(badges[index], mark.badge, false) : ''),
      ),
    ),
  ];
  return element(
    'g',
    { class: `node ${node.kind}`, 'data-node': node.name, 'data-fault': faultKinds(marks) },
    parts.join(''),
  );
}

/** The modules inside a process (joined by the interface they call through) or the schemas inside a database. */
function drawCompartments(node: NodeLayout): string {
  const compartments = node.compartments ?? [];
  const boxes = compartments.map((compartment) =>
    element(
      'g',
      { class: 'compartment', 'data-compartment': compartment.label },
      [
        element('rect', {
          ...boxAttributes(compartment.box),
          rx: 5,
          fill: '#fff',
          stroke: PALETTE.border,
          'stroke-width': 1,
        }),
        text(compartment.label, {
          x: centerX(compartment.box),
          y: compartment.box.y + (compartment.detail ? 16 : compartment.box.height / 2 + 4),
          'text-anchor': 'middle',
          'font-size': node.kind === 'database' ? 12 : 12.5,
          'font-weight': node.kind === 'database' ? 500 : 600,
          fill: PALETTE.text,
        }),
        compartment.detail
          ? text(compartment.detail, {
              x: centerX(compartment.box),
              y: compartment.box.y + 31,
              'text-anchor': 'middle',
              'font-size': 11,
              fill: PALETTE.muted,
            })
          : '',
      ].join(''),
    ),
  );
  const calls = compartments.slice(1).map((callee, index) => {
    const caller = compartments[index];
    if (!caller || node.innerCall === undefined) return '';
    const x = caller.box.x + 24;
    const from = { x, y: caller.box.y + caller.box.height };
    const to = { x, y: callee.box.y };
    return element(
      'g',
      { class: 'inner-call', 'data-call': node.innerCall },
      [
        title(`${caller.label} calls ${callee.label} through the ${node.innerCall} interface, in-process`),
        element('line', { ...lineAttributes(from, to), stroke: PALETTE.accent, 'stroke-width': 1.3 }),
        arrowHead(from, to, PALETTE.accent),
        text(node.innerCall, {
          x: x + 10,
          y: (from.y + to.y) / 2 + 4,
          'font-size': 11.5,
          'font-family': MONO_FONT,
          fill: PALETTE.text,
        }),
      ].join(''),
    );
  });
  return [...boxes, ...calls].join('');
}

function nodeTitle(node: NodeLayout): string {
  switch (node.kind) {
    case 'load':
      return 'load generator: open-model load, every request through an edge link';
    case 'service':
      return node.compartments?.length
        ? `${node.name}: one process of ${node.compartments.map((part) => part.label).join(' and ')} (answers ${node.detail})`
        : `${node.name}: one process (answers ${node.detail})`;
    case 'database':
      return `${node.label}: a database on the lab's PostgreSQL server`;
    case 'dns':
      return `the lab's DNS server: ${node.detail}`;
  }
}

function crossOut(box: Box): string {
  const inset = 6;
  return element('path', {
    d:
      `M${pointText({ x: box.x + inset, y: box.y + inset })}` +
      `L${pointText({ x: box.x + box.width - inset, y: box.y + box.height - inset })}` +
      `M${pointText({ x: box.x + inset, y: box.y + box.height - inset })}` +
      `L${pointText({ x: box.x + box.width - inset, y: box.y + inset })}`,
    stroke: PALETTE.bad,
    'stroke-width': 2.5,
    'stroke-opacity': 0.45,
    'stroke-linecap': 'round',
  });
}

function cylinder(box: Box, faulted: boolean): string {
  const lid = 7;
  const fill = faulted ? PALETTE.badSoft : '#fff';
  const stroke = faulted ? PALETTE.bad : '#8a94a3';
  const { x, y, width, height } = box;
  const rx = width / 2;
  return [
    element('path', {
      d:
        `M${pointText({ x, y: y + lid })}V${num(y + height - lid)}` +
        `A${num(rx)} ${lid} 0 0 0 ${pointText({ x: x + width, y: y + height - lid })}` +
        `V${num(y + lid)}A${num(rx)} ${lid} 0 0 0 ${pointText({ x, y: y + lid })}Z`,
      fill,
      stroke,
      'stroke-width': faulted ? 1.5 : 1.2,
    }),
    element('path', {
      d: `M${pointText({ x, y: y + lid })}A${num(rx)} ${lid} 0 0 0 ${pointText({ x: x + width, y: y + lid })}`,
      fill: 'none',
      stroke,
      'stroke-width': faulted ? 1.5 : 1.2,
    }),
  ].join('');
}

/** The key to the picture, wrapped onto a second line when it does not fit. */
function drawLegend(
  layout: TopologyLayout,
  baseline: number,
  faulted: boolean,
): { markup: string; bottom: number } {
  const items: string[] = [];
  const left = 16;
  let x = left;
  let y = baseline;
  // Each entry is a symbol then its words; it moves to the next line as a whole.
  const entry = (symbolWidth: number, symbol: (x: number, y: number) => string, words: string) => {
    const width = symbolWidth + 6 + textWidth(words, 12);
    if (x > left && x + width > layout.width - 16) {
      x = left;
      y += 20;
    }
    items.push(
      symbol(x, y),
      text(words, { x: x + symbolWidth + 6, y, 'font-size': 12, fill: PALETTE.muted }),
    );
    x += width + 22;
  };
  const pillWidth = textWidth('link', 11, 'mono') + 14;
  entry(
    pillWidth,
    (x, y) =>
      element('rect', {
        x,
        y: y - 12,
        width: pillWidth,
        height: 16,
        rx: 8,
        fill: PALETTE.accentSoft,
        stroke: PALETTE.accent,
        'stroke-width': 1,
      }) +
      text('link', {
        x: x + pillWidth / 2,
        y: y,
        'text-anchor': 'middle',
        'font-family': MONO_FONT,
        'font-size': 11,
        fill: PALETTE.accent,
      }),
    'a Toxiproxy proxy: every connection crosses one',
  );
  if (layout.dnsLookups.length > 0) {
    entry(
      24,
      (x, y) =>
        element('line', {
          x1: x,
          y1: y - 4,
          x2: x + 24,
          y2: y - 4,
          stroke: PALETTE.wire,
          'stroke-width': 1.4,
          'stroke-dasharray': '5 4',
        }),
      'DNS lookup (direct)',
    );
  }
  if (faulted) {
    entry(
      12,
      (x, y) =>
        element('rect', {
          x,
          y: y - 11,
          width: 12,
          height: 12,
          rx: 3,
          fill: PALETTE.badSoft,
          stroke: PALETTE.bad,
        }),
      'a fault (hover for details)',
    );
  }
  return { markup: element('g', { class: 'legend' }, items.join('')), bottom: y + 4 };
}

function arrowHead(from: Point, to: Point, colour: string): string {
  const direction = unit(from, to);
  const across = { x: -direction.y, y: direction.x };
  const base = { x: to.x - direction.x * 9, y: to.y - direction.y * 9 };
  const corner = (side: number): Point => ({ x: base.x + across.x * side, y: base.y + across.y * side });
  return element('path', {
    d: `M${pointText(to)}L${pointText(corner(4.5))}L${pointText(corner(-4.5))}Z`,
    fill: colour,
  });
}

/** The kinds of the marks on one element, each once: `partition latency`. */
function faultKinds(marks: readonly { kind: FaultKind }[]): string | undefined {
  return marks.length > 0 ? [...new Set(marks.map((mark) => mark.kind))].join(' ') : undefined;
}

function boxAttributes(box: Box) {
  return { x: box.x, y: box.y, width: box.width, height: box.height };
}

function lineAttributes(from: Point, to: Point) {
  return { x1: from.x, y1: from.y, x2: to.x, y2: to.y };
}

function pointText(point: Point): string {
  return `${num(point.x)} ${num(point.y)}`;
}
