/**
 * The building blocks both report pages share: the page shell (head, Content-Security-Policy, inline
 * styles), tables with numeric alignment, sections and the held/did-not-hold mark. Every string that
 * goes in is escaped by {@link html}.
 */
import { escapeHtml, html, type HtmlValue, type SafeHtml } from './html.ts';
import { REPORT_CSS } from './styles.ts';

// No network at all: inline styles only, and inline scripts only on a page that has charts; data:
// images so ECharts can export a PNG.
const PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'";
const CHART_PAGE_POLICY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:";

/** What {@link page} needs to know about a page. */
export interface PageOptions {
  title: string;
  body: SafeHtml;
  /** True for a page with inline scripts (the run page's charts); a page without them may run none. */
  scripts?: boolean;
  /** Content of `<meta name="generator">`, e.g. the results schema the page was drawn from. */
  generator?: string;
}

/**
 * A whole self-contained HTML document: charset, viewport, a Content-Security-Policy that forbids every
 * network request, and the report's CSS inline.
 *
 * @example await writeFile('index.html', page({ title: 'splitlab runs', body: html`<main>…</main>` }));
 */
export function page({ title, body, scripts = false, generator }: PageOptions): string {
  // A plain string, not html``: the policy's quotes must stay literal, and the formatter leaves it alone.
  const generatorMeta =
    generator === undefined ? '' : `<meta name="generator" content="${escapeHtml(generator)}">\n`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${scripts ? CHART_PAGE_POLICY : PAGE_POLICY}">
${generatorMeta}<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${body.text}
</body>
</html>
`;
}

/** One column of a {@link table}. */
export interface TableColumn<Row> {
  header: HtmlValue;
  cell: (row: Row) => HtmlValue;
  /** Right-aligned with tabular figures, header included, so digits line up down the column. */
  numeric?: boolean;
  /** Tooltip on the header, for a short column name that needs explaining. */
  title?: string;
  /** Extra class of a cell: fixed, or per row (e.g. `bad` on a value that should be zero). */
  cellClass?: string | ((row: Row) => string | false | null | undefined);
}

/** What {@link table} draws. */
export interface TableOptions<Row> {
  columns: readonly TableColumn<Row>[];
  rows: readonly Row[];
  /** Smaller type and padding, for wide tables that share the width with others. */
  compact?: boolean;
  /** Attributes of each row's `<tr>`, in the order given (e.g. a class and a data- id). */
  rowAttributes?: (row: Row) => Record<string, string>;
}

/**
 * A table in a horizontally scrolling wrapper, one `<td>` per column and row.
 *
 * @example
 * table({
 *   columns: [
 *     { header: 'Route', cell: (r) => r.route },
 *     { header: 'Recovered in', numeric: true, cell: (r) => formatSeconds(r.seconds) },
 *   ],
 *   rows: deployment.recovery,
 * })
 */
export function table<Row>({ columns, rows, compact = false, rowAttributes }: TableOptions<Row>): SafeHtml {
  const header = (column: TableColumn<Row>) =>
    html`<th${attributes({ class: column.numeric ? 'num' : undefined, title: column.title })}>${column.header}</th>`;
  const cell = (column: TableColumn<Row>, row: Row) => {
    const extra = typeof column.cellClass === 'function' ? column.cellClass(row) : column.cellClass;
    const classes = [column.numeric ? 'num' : '', extra || ''].filter(Boolean).join(' ');
    return html`<td${attributes({ class: classes || undefined })}>${column.cell(row)}</td>`;
  };
  const tableRow = (row: Row) =>
    html`<tr${attributes(rowAttributes?.(row) ?? {})}>
      ${columns.map((column) => cell(column, row))}
    </tr>`;
  return html`<div class="table-wrap">
    <table${attributes({ class: compact ? 'compact' : undefined })}>
      <thead>
        <tr>
          ${columns.map(header)}
        </tr>
      </thead>
      <tbody>
        ${rows.map(tableRow)}
      </tbody>
    </table>
  </div>`;
}

/**
 * A top-level section of a page with its `<h2>`; `id` makes it linkable (`index.html#hypothesis`).
 *
 * @example section('load', 'Load offered', table({ columns, rows }))
 */
export function section(id: string, heading: string, ...content: HtmlValue[]): SafeHtml {
  return html`<section id="${id}">
    <h2>${heading}</h2>
    ${content}
  </section>`;
}

/**
 * Whether a claim or a hypothesis held, in words and colour.
 *
 * @example html`<td>${heldMark(claim.held)}</td>`
 */
export function heldMark(held: boolean): SafeHtml {
  return held
    ? html`<span class="held-yes">✓ held</span>`
    : html`<span class="held-no">✗ did not hold</span>`;
}

/** ` name="value"` for each attribute with a value; names come from code, values are escaped. */
function attributes(values: Record<string, string | undefined>): SafeHtml {
  return html`${Object.entries(values).map(([name, value]) =>
    value === undefined ? null : html` ${name}="${value}"`,
  )}`;
}
