import { spawnSync } from 'node:child_process';
import { access, constants, rename, rm, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { LabError } from '../../errors.ts';
import { makeLabTempDir } from '../lab-temp-dirs.ts';

export const TOXIPROXY_MODULE = 'github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0';
export const TOXIPROXY_BINARY = 'toxiproxy-server';

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, binary);
    const result = spawnSync('test', ['-x', candidate]);
    if (result.status === 0) return candidate;
  }
  return undefined;
}

/**
 * Finds `toxiproxy-server`: on PATH, then in `<projectRoot>/.lab/bin`, else installs it there with
 * `go install`. Throws TOOL_MISSING with the install command when none of that works.
 *
 * @example
 *   const binary = await locateToxiproxy(projectRoot, { install: true });
 */
export async function locateToxiproxy(
  projectRoot: string,
  options: { install: boolean; log?: (line: string) => void },
): Promise<string> {
  const fromPath = onPath(TOXIPROXY_BINARY);
  if (fromPath) return fromPath;
  const toolDir = path.join(projectRoot, '.lab', 'bin');
  const local = path.join(toolDir, TOXIPROXY_BINARY);
  if (await isExecutable(local)) return local;

  const howToInstall =
    `Install it with Go >= 1.23: GOBIN="${toolDir}" go install ${TOXIPROXY_MODULE} && ` +
    `mv "${toolDir}/server" "${local}" (or put any toxiproxy-server v2.12 on PATH).`;
  if (!options.install) {
    throw new LabError(
      'TOOL_MISSING',
      `toxiproxy-server not found on PATH or in ${toolDir}. ${howToInstall}`,
    );
  }
  const go = onPath('go');
  if (!go) {
    throw new LabError(
      'TOOL_MISSING',
      `toxiproxy-server not found on PATH or in ${toolDir}, and Go is not installed to build it. ${howToInstall}`,
    );
  }
  options.log?.(`toxiproxy-server not found; installing ${TOXIPROXY_MODULE} into ${toolDir} ...`);
  // Build into a private folder first: `go install` names the binary `server`, and a half-written
  // binary must never be found by the next run.
  await mkdir(toolDir, { recursive: true });
  const buildDir = await makeLabTempDir('gobin');
  try {
    const result = spawnSync(go, ['install', TOXIPROXY_MODULE], {
      env: { ...process.env, GOBIN: buildDir },
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (result.status !== 0) {
      throw new LabError(
        'TOOL_MISSING',
        `go install ${TOXIPROXY_MODULE} failed (exit ${result.status}): ${(result.stderr ?? '').trim().slice(-800)}\n${howToInstall}`,
      );
    }
    await rename(path.join(buildDir, 'server'), local);
  } finally {
    await rm(buildDir, { recursive: true, force: true });
  }
  return local;
}
