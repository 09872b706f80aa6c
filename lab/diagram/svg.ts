/**
 * The small vocabulary the topology diagram is drawn with: the report's palette, text measured without a
 * browser, and elements written as plain strings with every attribute and text escaped.
 */
import { escapeHtml } from '../report/html.ts';

/**
 * The report's colours (lab/report/styles.ts), written into the SVG itself: the same file is shown on
 * its own (README, docs), where no page CSS reaches it.
 */
export const PALETTE = {
  text: '#1f2630',
  muted: '#5b6472',
  line: '#dde2e9',
  border: '#c9d0da',
  soft: '#f5f7fa',
  panel: '#fbfcfd',
  accent: '#2f5d9e',
  accentSoft: '#eaf0f8',
  service: '#e3e9f2',
  wire: '#6b7481',
  bad: '#b3261e',
  badSoft: '#fbe9e7',
  faultText: '#9b2335',
} as const;

export const SANS_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
export const MONO_FONT = 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';

/** A point of the drawing, in viewBox units. */
export interface Point {
  x: number;
  y: number;
}

/** A rectangle of the drawing, in viewBox units. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Coordinates with at most one decimal: short, and the same text on every machine. */
export function num(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

export type AttributeValue = string | number | undefined | false;

/** ` name="value"` for each attribute that has a value; numbers go through {@link num}. */
export function attributes(values: Record<string, AttributeValue>): string {
  return Object.entries(values)
    .flatMap(([name, value]) =>
      value === undefined || value === false
        ? []
        : [` ${name}="${typeof value === 'number' ? num(value) : escapeHtml(value)}"`],
    )
    .join('');
}

/** One element; `children` is markup already built by these helpers (never unescaped data). */
export function element(name: string, values: Record<string, AttributeValue>, children = ''): string {
  return children === ''
    ? `<${name}${attributes(values)}/>`
    : `<${name}${attributes(values)}>${children}</${name}>`;
}

/** A `<text>` element holding `content`, escaped. */
export function text(content: string, values: Record<string, AttributeValue>): string {
  return `<text${attributes(values)}>${escapeHtml(content)}</text>`;
}

/** A `<title>` (the tooltip, and the accessible name of its parent), escaped. */
export function title(content: string): string {
  return `<title>${escapeHtml(content)}</title>`;
}

/**
 * Glyph widths in em, measured in chromium with the widest font of the stack this lab meets (DejaVu
 * Sans on Debian); narrower fonts just leave more room. Semi-bold is about 12 % wider.
 */
const SANS_EM = { lower: 0.57, upper: 0.68, digit: 0.64, space: 0.32, other: 0.52 } as const;
const BOLD_FACTOR = 1.12;
const MONO_EM = 0.6;

/** About how wide `content` is drawn, without a browser: boxes are sized from it. */
export function textWidth(
  content: string,
  fontSize: number,
  font: 'sans' | 'bold' | 'mono' = 'sans',
): number {
  if (font === 'mono') return content.length * fontSize * MONO_EM;
  let em = 0;
  for (const glyph of content) {
    if (/[a-z]/.test(glyph)) em += SANS_EM.lower;
    else if (/[A-Z]/.test(glyph)) em += SANS_EM.upper;
    else if (/[0-9]/.test(glyph)) em += SANS_EM.digit;
    else if (glyph === ' ') em += SANS_EM.space;
    else em += SANS_EM.other;
  }
  return em * fontSize * (font === 'bold' ? BOLD_FACTOR : 1);
}

/** The direction from `from` to `to`, of length 1. */
export function unit(from: Point, to: Point): Point {
  const length = Math.hypot(to.x - from.x, to.y - from.y) || 1;
  return { x: (to.x - from.x) / length, y: (to.y - from.y) / length };
}

/** How far a box reaches from its centre along `direction`. */
export function extentAlong(box: Box, direction: Point): number {
  const alongX = Math.abs(direction.x) > 1e-9 ? box.width / 2 / Math.abs(direction.x) : Infinity;
  const alongY = Math.abs(direction.y) > 1e-9 ? box.height / 2 / Math.abs(direction.y) : Infinity;
  return Math.min(alongX, alongY);
}
