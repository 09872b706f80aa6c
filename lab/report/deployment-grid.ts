/**
 * The layout of everything the run page shows once per deployment (a report column: `monolith`,
 * `split`, `split/retry`, ...). Each deployment is one element holding all its blocks, so its tables and
 * charts stay together for any number of columns: two side by side, more as a grid of whole
 * deployments, one above the other on a narrow screen.
 */
import type { VariantName } from '../vocabulary/topology.ts';
import { html, type HtmlValue, type SafeHtml } from './html.ts';

/** One deployment's column: its blocks, top to bottom. */
export interface DeploymentColumn {
  deployment: VariantName;
  blocks: readonly HtmlValue[];
}

/**
 * A grid of whole deployments. Blocks at the same position line up across the deployments of a grid
 * row (CSS subgrid), so "checkout in monolith" sits level with "checkout in split".
 *
 * @example
 * deploymentGrid(deployments.map((d) => ({ deployment: d.deployment, blocks: [heading(d), auditTable(d)] })))
 */
export function deploymentGrid(
  columns: readonly DeploymentColumn[],
  options: { card?: boolean } = {},
): SafeHtml {
  // Every column spans as many rows as the longest, so a grid row never starts beside another's middle.
  const rows = Math.max(1, ...columns.map((column) => column.blocks.length));
  return html`<div class="deployments" data-columns="${columns.length}" style="--rows: ${rows}">
    ${columns.map(
      ({ deployment, blocks }) =>
        html`<article class="deployment${options.card ? ' card' : ''}" data-deployment="${deployment}">
          ${blocks.map((block) => html`<div class="block">${block}</div>`)}
        </article>`,
    )}
  </div>`;
}
