import { describe, expect, it } from 'vitest';
import { html } from '../../lab/report/html.ts';
import { page, table } from '../../lab/report/markup.ts';

describe('table', () => {
  const rows = [
    { name: 'orphan <users>', count: 412 },
    { name: 'users', count: 0 },
  ];
  const markup = table({
    columns: [
      { header: 'Rows', cell: (row) => row.name },
      {
        header: 'Count',
        numeric: true,
        title: 'rows "found"',
        cell: (row) => row.count,
        cellClass: (row) => row.count > 0 && 'bad',
      },
    ],
    rows,
    rowAttributes: (row) => ({ class: 'audit', 'data-row': row.name }),
  }).text.replace(/\s+/g, ' ');

  it('aligns numeric columns right, header included, and adds per-row cell classes', () => {
    expect(markup).toContain('<th>Rows</th><th class="num" title="rows &quot;found&quot;">Count</th>');
    expect(markup).toContain('<td class="num bad">412</td>');
    expect(markup).toContain('<td class="num">0</td>');
  });

  it('writes one row per item with its attributes, escaping every value', () => {
    expect(markup).toContain(
      '<tr class="audit" data-row="orphan &lt;users&gt;"> <td>orphan &lt;users&gt;</td>',
    );
    expect(markup.match(/<tr\b/g)).toHaveLength(3);
    expect(markup).not.toContain('<users>');
  });
});

describe('page', () => {
  it('lets a page without charts run no script at all', () => {
    const plain = page({ title: 'runs & more', body: html`<main>hi</main>` });
    expect(plain).toContain(`content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(plain).toContain('<title>runs &amp; more</title>');
    expect(plain).not.toContain('name="generator"');
  });

  it('allows inline scripts only on a page that asks for them, still with no network', () => {
    const charts = page({ title: 't', body: html``, scripts: true, generator: 'splitlab report' });
    expect(charts).toContain(`content="default-src 'none'; script-src 'unsafe-inline';`);
    expect(charts).toContain('<meta name="generator" content="splitlab report">');
  });
});
