/**
 * The shape a new maintainer relies on: lab/ is folders by stage and concern with only the shared
 * vocabulary at its root, and a file's name says which file it is. (Import cycles are the linter's:
 * import-x/no-cycle in eslint.config.js.)
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lab/project-root.ts';

const LAB_ROOT_MAX_SOURCE_FILES = 8;

function sourceFilesUnder(folder: string): string[] {
  return readdirSync(path.join(PROJECT_ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => path.join(folder, file));
}

describe('the repository’s shape', () => {
  it(`lab/ keeps at most ${LAB_ROOT_MAX_SOURCE_FILES} source files at its root`, () => {
    const atRoot = readdirSync(path.join(PROJECT_ROOT, 'lab')).filter((file) => file.endsWith('.ts'));
    expect(atRoot.length, atRoot.join(', ')).toBeLessThanOrEqual(LAB_ROOT_MAX_SOURCE_FILES);
  });

  it('no two source files of lab/ and services/ share a name', () => {
    const byName = new Map<string, string[]>();
    for (const file of [...sourceFilesUnder('lab'), ...sourceFilesUnder('services')]) {
      byName.set(path.basename(file), [...(byName.get(path.basename(file)) ?? []), file]);
    }
    const shared = [...byName.values()].filter((files) => files.length > 1);
    expect(shared).toEqual([]);
  });
});
