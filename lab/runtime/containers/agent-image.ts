import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../../project-root.ts';
import type { ImageContext } from './image-context.ts';
import { IMAGE_LABEL } from './labels.ts';
import { packageOf, runtimePackageDirs } from './package-closure.ts';

/** Where the lab's in-network parts live: each `*-main.ts` there is one container's entry point. */
export const AGENT_DIR = path.join(PROJECT_ROOT, 'lab', 'agent');

/** Relative imports (static, re-exports, dynamic) and bare package imports of one source file. */
const RELATIVE_IMPORT = /(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g;
const PACKAGE_IMPORT = /(?:from|import)\s*\(?\s*'([^'./][^']*)'/g;

/**
 * The source files an entry point needs, followed through its relative imports, and the packages they
 * import. The agent image carries exactly these: not the CLI, the report or the browser tests.
 */
export async function importClosure(
  entries: readonly string[],
): Promise<{ files: string[]; packages: string[] }> {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (files.has(file)) return;
    files.add(file);
    const source = await readFile(file, 'utf8');
    for (const match of source.matchAll(PACKAGE_IMPORT)) {
      const name = packageOf(match[1] ?? '');
      if (name) packages.add(name);
    }
    for (const match of source.matchAll(RELATIVE_IMPORT)) {
      await visit(path.resolve(path.dirname(file), match[1] ?? ''));
    }
  };
  for (const entry of entries) await visit(entry);
  return { files: [...files].sort(), packages: [...packages].sort() };
}

/** The entry points of the agent image: lab/agent/*-main.ts. */
export async function agentEntryPoints(): Promise<string[]> {
  const names = await readdir(AGENT_DIR);
  return names
    .filter((name) => name.endsWith('-main.ts'))
    .sort()
    .map((name) => path.join(AGENT_DIR, name));
}

/**
 * The lab's own image: the parts of the lab that run inside the Docker network next to the system under
 * test (the DNS server, the trace relay, the load generator), so that nothing the topology needs sits on
 * the lab's machine, which may be far from the engine. One image, one entry point per container.
 */
export async function agentRecipe(context: ImageContext): Promise<void> {
  const { files, packages } = await importClosure(await agentEntryPoints());
  for (const file of files) await context.copyFile(file, `/app/${path.relative(PROJECT_ROOT, file)}`);
  for (const dir of await runtimePackageDirs(PROJECT_ROOT, packages)) {
    await context.copyTree(path.join(PROJECT_ROOT, dir), `/app/${dir}`);
  }
  await context.writeFile('/app/package.json', `${JSON.stringify({ private: true, type: 'module' })}\n`);
  // No shell in the locally built node image, so no RUN; the container's command picks the entry point.
  await context.writeDockerfile(`ARG NODE_IMAGE=node:24-slim
FROM \${NODE_IMAGE}
LABEL ${IMAGE_LABEL}=agent
WORKDIR /app
COPY rootfs/app/ /app/
ENV NODE_ENV=production
USER 1000:1000
`);
}
