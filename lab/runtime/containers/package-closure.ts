import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { LabError } from '../../errors.ts';

/**
 * The npm package a bare import specifier names (`@opentelemetry/api/x` -> `@opentelemetry/api`,
 * `undici/types` -> `undici`); undefined for Node's own modules.
 */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** The bare package names the services import: their image gets exactly these and their dependencies. */
export async function servicePackageRoots(servicesDir: string): Promise<string[]> {
  const roots = new Set<string>();
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await visit(full);
      else if (entry.name.endsWith('.ts')) {
        const source = await readFile(full, 'utf8');
        for (const match of source.matchAll(/from '([^'.][^']*)'/g)) {
          const name = packageOf(match[1] ?? '');
          if (name) roots.add(name);
        }
      }
    }
  };
  await visit(servicesDir);
  return [...roots].sort();
}

/**
 * The package directories (relative to the project) the services need at run time: the imported
 * packages and, transitively, their dependencies, resolved the way Node does (nested node_modules
 * first, then each parent's).
 */
export async function runtimePackageDirs(projectRoot: string, roots: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  const exists = async (dir: string): Promise<boolean> =>
    stat(path.join(dir, 'package.json')).then(
      () => true,
      () => false,
    );
  const resolveFrom = async (fromDir: string, name: string): Promise<string | undefined> => {
    for (let dir = fromDir; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', name);
      if (await exists(candidate)) return candidate;
      if (dir === projectRoot || dir === path.dirname(dir)) return undefined;
    }
  };
  const add = async (fromDir: string, name: string, optional: boolean): Promise<void> => {
    const dir = await resolveFrom(fromDir, name);
    if (!dir) {
      if (optional) return;
      throw new LabError(
        'TOOL_MISSING',
        `package ${name} (needed by an image the lab builds) is not installed; run npm ci.`,
      );
    }
    if (found.has(dir)) return;
    found.add(dir);
    const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const dependency of Object.keys(manifest.dependencies ?? {})) await add(dir, dependency, false);
    for (const dependency of Object.keys(manifest.optionalDependencies ?? {}))
      await add(dir, dependency, true);
  };
  for (const root of roots) await add(projectRoot, root, false);
  // A package nested inside another one's node_modules travels with its parent.
  const dirs = [...found].sort();
  return dirs
    .filter((dir) => !dirs.some((other) => other !== dir && dir.startsWith(`${other}${path.sep}`)))
    .map((dir) => path.relative(projectRoot, dir));
}
