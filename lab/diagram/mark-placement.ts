/**
 * Where each fault mark of a diagram goes: the cut or cross on its link's line, and its badge beside
 * the link's proxy or on its node, at the first of a few candidate spots that covers no box, no line
 * and no badge already placed. Any combination of faults stays readable, whatever the topology holds.
 */
import type { LinkName } from '../vocabulary/topology.ts';
import type { DiagramMarks, FaultMark, LinkFaultMark } from './fault-marks.ts';
import { extentAlong, textWidth, unit, type Box, type Point } from './svg.ts';
import {
  centerX,
  centerY,
  type LinkLayout,
  type NodeLayout,
  type TopologyLayout,
} from './topology-layout.ts';

export const BADGE_HEIGHT = 19;
export const BADGE_FONT_SIZE = 12;
const BADGE_GAP = 4;
const CLOCK_ROOM = 16;

export interface MarkPlacement {
  /** One badge per mark, in the order of the marks. */
  linkBadges: Map<LinkName, Box[]>;
  nodeBadges: Map<string, Box[]>;
  /** One point per cut or cross, in the order of those marks. */
  lineMarks: Map<LinkName, Point[]>;
  /** The lowest edge of anything placed: the legend goes below it. */
  bottom: number;
}

/** A badge's width: its text in semi-bold, padding, and room for the clock of a latency. */
export function badgeWidth(mark: FaultMark | LinkFaultMark): number {
  const clock = 'shape' in mark && mark.shape === 'clock';
  return textWidth(mark.badge, BADGE_FONT_SIZE, 'bold') + 14 + (clock ? CLOCK_ROOM : 0);
}

/**
 * Places every mark of `marks` on `layout`: node badges first (they have the fewest spots), then links.
 *
 * @example placeMarks(layoutTopology('split', { titled: false }), markFaults('split', faults)).linkBadges
 */
export function placeMarks(layout: TopologyLayout, marks: DiagramMarks): MarkPlacement {
  const occupied: Box[] = [
    ...layout.nodes.map((node) => node.box),
    ...layout.links.map((link) => link.pill),
    ...layout.dnsLookups.map((lookup) => lookup.labelBox),
    layout.postgres,
  ];
  const lines: [Point, Point][] = [
    ...layout.links.map((link): [Point, Point] => [link.start, link.end]),
    ...layout.dnsLookups.map((lookup): [Point, Point] => [lookup.start, lookup.end]),
  ];
  const top = layout.titleHeight + 4;
  // `own` is the node a badge belongs to: a tag may sit on its edge.
  const free = (box: Box, own: Box | undefined) =>
    box.x >= 4 &&
    box.x + box.width <= layout.width - 4 &&
    box.y >= top &&
    occupied.every((other) => other === own || !overlaps(box, other, 2)) &&
    lines.every(([from, to]) => !segmentHitsBox(from, to, grow(box, 2)));
  const take = (candidates: readonly Box[], own?: Box): Box => {
    const [first] = candidates;
    if (!first) throw new Error('bug: no candidate spot for a fault badge');
    const chosen = candidates.find((candidate) => free(candidate, own)) ?? first;
    occupied.push(chosen);
    return chosen;
  };

  const placement: MarkPlacement = {
    linkBadges: new Map(),
    nodeBadges: new Map(),
    lineMarks: new Map(),
    bottom: 0,
  };
  for (const node of layout.nodes) {
    const nodeMarks = marks.nodes.get(node.name) ?? [];
    if (nodeMarks.length === 0) continue;
    placement.nodeBadges.set(
      node.name,
      nodeMarks.map((mark) => take(nodeCandidates(node, badgeWidth(mark)), node.box)),
    );
  }
  for (const link of layout.links) {
    const linkMarks = marks.links.get(link.link) ?? [];
    if (linkMarks.length === 0) continue;
    const points = lineMarkPoints(link, linkMarks);
    for (const point of points) occupied.push({ x: point.x - 10, y: point.y - 10, width: 20, height: 20 });
    placement.lineMarks.set(link.link, points);
    placement.linkBadges.set(
      link.link,
      linkMarks.map((mark) => take(linkCandidates(link, badgeWidth(mark)))),
    );
  }
  placement.bottom = Math.max(...occupied.map((box) => box.y + box.height));
  return placement;
}

/** Cuts and crosses sit on the line between the proxy and where the link arrives, spread along it. */
function lineMarkPoints(link: LinkLayout, marks: readonly LinkFaultMark[]): Point[] {
  const count = marks.filter((mark) => mark.shape === 'cut' || mark.shape === 'cross').length;
  const direction = unit(link.start, link.end);
  const pill = { x: centerX(link.pill), y: centerY(link.pill) };
  const from = extentAlong(link.pill, direction) + 4;
  // Clear of the arrowhead and of what the link arrives at.
  const to = Math.hypot(link.end.x - pill.x, link.end.y - pill.y) - 18;
  return Array.from({ length: count }, (_, index) => {
    const along = from + ((to - from) * (index + 1)) / (count + 1);
    return { x: pill.x + direction.x * along, y: pill.y + direction.y * along };
  });
}

/** Stacked beside the proxy on the link's own side, nudged left and right, then the other side. */
function linkCandidates(link: LinkLayout, width: number): Box[] {
  const { pill, badgeSide } = link;
  const steps = [0, 1, 2, 3, 4, 5].map((slot) => slot * (BADGE_HEIGHT + BADGE_GAP));
  const at = (x: number, y: number): Box => ({ x, y, width, height: BADGE_HEIGHT });
  if (badgeSide === 'right') {
    // A vertical link: a list down its right side, then up it, then on its left.
    return [
      ...steps.map((step) => at(pill.x + pill.width + 8, pill.y + 1 + step)),
      ...steps.slice(1).map((step) => at(pill.x + pill.width + 8, pill.y + 1 - step)),
      ...steps.map((step) => at(pill.x - 8 - width, pill.y + 1 + step)),
    ];
  }
  const row = (side: 'above' | 'below', step: number): Box[] => {
    const y = side === 'above' ? pill.y - 5 - BADGE_HEIGHT - step : pill.y + pill.height + 5 + step;
    return [0, -0.25, 0.25, -0.5, 0.5, -1, 1].map((shift) =>
      at(centerX(pill) - width / 2 + shift * width, y),
    );
  };
  const other = badgeSide === 'above' ? 'below' : 'above';
  // The link's own side keeps a head start of one row over the other side.
  return steps.flatMap((step, slot) => [
    ...row(badgeSide, step),
    ...(slot > 0 ? row(other, steps[slot - 1] ?? 0) : []),
  ]);
}

/** A DNS server lists its answers beside it; a process wears a tag on its top edge. */
function nodeCandidates(node: NodeLayout, width: number): Box[] {
  const { box } = node;
  const slots = [0, 1, 2, 3].map((slot) => slot * (BADGE_HEIGHT + BADGE_GAP));
  const right = slots.map((step) => ({
    x: box.x + box.width + 8,
    y: box.y + step,
    width,
    height: BADGE_HEIGHT,
  }));
  const left = slots.map((step) => ({ x: box.x - 8 - width, y: box.y + step, width, height: BADGE_HEIGHT }));
  if (node.kind === 'dns') return [...right, ...left];
  const top = slots.flatMap((step) => [
    { x: box.x + box.width - width + 10, y: box.y - BADGE_HEIGHT / 2 - step, width, height: BADGE_HEIGHT },
    { x: box.x - 10, y: box.y - BADGE_HEIGHT / 2 - step, width, height: BADGE_HEIGHT },
  ]);
  return [...top, ...right, ...left];
}

function overlaps(a: Box, b: Box, margin: number): boolean {
  return (
    a.x < b.x + b.width + margin &&
    b.x < a.x + a.width + margin &&
    a.y < b.y + b.height + margin &&
    b.y < a.y + a.height + margin
  );
}

function grow(box: Box, by: number): Box {
  return { x: box.x - by, y: box.y - by, width: box.width + 2 * by, height: box.height + 2 * by };
}

/** Whether the segment from `a` to `b` crosses the box (Liang–Barsky clipping). */
export function segmentHitsBox(a: Point, b: Point, box: Box): boolean {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  let enter = 0;
  let leave = 1;
  const edges: [number, number][] = [
    [-dx, a.x - box.x],
    [dx, box.x + box.width - a.x],
    [-dy, a.y - box.y],
    [dy, box.y + box.height - a.y],
  ];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q < 0) return false;
      continue;
    }
    const t = q / p;
    if (p < 0) {
      if (t > leave) return false;
      enter = Math.max(enter, t);
    } else {
      if (t < enter) return false;
      leave = Math.min(leave, t);
    }
  }
  return enter <= leave;
}
