/**
 * Draws the documentation's pictures of the three deployments into docs/images/, from the same wiring the
 * runtimes start. Run it after changing the topology or the diagram; a unit test fails while they are stale.
 *
 *   npm run diagrams
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { renderTopologyDiagram } from '../diagram/topology-diagram.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import type { DeploymentName } from '../vocabulary/topology.ts';

export const DIAGRAMS_DIR = join(PROJECT_ROOT, 'docs', 'images');

const TITLES: Record<DeploymentName, string> = {
  monolith: 'monolith: one process, one database',
  modular:
    'modular: one process; signup and payment modules, each with its own schema and pool in one database',
  split: 'split: signup-service calls payment-service over the network; each has its own database',
};

/** Each documentation diagram: where it goes and what it holds (an SVG file ends with a newline). */
export function documentationDiagrams(): { path: string; svg: string }[] {
  return (Object.keys(TITLES) as DeploymentName[]).map((deployment) => ({
    path: join(DIAGRAMS_DIR, `topology-${deployment}.svg`),
    svg: `${renderTopologyDiagram(deployment, [], { title: TITLES[deployment] })}\n`,
  }));
}

if (import.meta.main) {
  await mkdir(DIAGRAMS_DIR, { recursive: true });
  for (const { path, svg } of documentationDiagrams()) {
    await writeFile(path, svg, 'utf8');
    console.log(`wrote ${relative(PROJECT_ROOT, path)}`);
  }
}
