import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lab/project-root.ts';

// The documentation is README.md and every Markdown file under docs/. No Markdown parser is installed,
// so this reads the small subset the docs use: ATX headings, inline links and images, reference
// definitions, fenced code (skipped) and code spans (skipped).

const README_MAX_LINES = 200;

/** Files a reader of the repository does not have; built from parts so this file does not name them. */
const FILES_USERS_DO_NOT_HAVE = ['DESIGN', 'FACTS'].map((name) => `${name}.md`);

function documentationFiles(): string[] {
  const docs = readdirSync(path.join(PROJECT_ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.md'))
    .map((file) => path.join('docs', file));
  return ['README.md', ...docs.sort()];
}

const read = (relative: string): string => readFileSync(path.join(PROJECT_ROOT, relative), 'utf8');

/** The text outside fenced code blocks, line by line (fenced lines become empty, keeping line numbers). */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker !== undefined) {
      fence = marker;
      return '';
    }
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      return '';
    }
    return line;
  });
}

const withoutCodeSpans = (text: string): string => text.replace(/(`+)[\s\S]*?[^`]\1(?!`)/g, '');

/**
 * GitHub's anchor for a heading: the rendered text in lower case, punctuation dropped except `-` and
 * `_`, spaces turned into dashes; a repeated heading gets `-1`, `-2`, ...
 *
 * @example slugOf('Walk-through: `partition`') // 'walk-through-partition'
 */
function slugOf(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/[`*]/g, '');
  return rendered
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: its headings' slugs and explicit `<a id|name="...">`. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = slugOf(heading);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const match of line.matchAll(/<a\s[^>]*(?:id|name)="([^"]+)"/g)) anchors.add(match[1] ?? '');
  }
  return anchors;
}

interface Link {
  line: number;
  target: string;
}

/** Inline links and images, and reference definitions, outside code. */
function linksOf(markdown: string): Link[] {
  const inline =
    /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
  const definition = /^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/;
  return proseLines(markdown).flatMap((line, index) => {
    const prose = withoutCodeSpans(line);
    const targets = [...prose.matchAll(inline)].map((match) => match[1] ?? '');
    const defined = definition.exec(prose)?.[1];
    if (defined !== undefined) targets.push(defined);
    return targets.map((target) => ({ line: index + 1, target: target.replace(/^<|>$/g, '') }));
  });
}

const isExternal = (target: string): boolean =>
  /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/** Why a relative link from `fromFile` is broken, or undefined when it resolves. */
function problemWith(fromFile: string, target: string): string | undefined {
  const hashAt = target.indexOf('#');
  const pathPart = decodeURIComponent(hashAt === -1 ? target : target.slice(0, hashAt));
  const anchor = hashAt === -1 ? undefined : decodeURIComponent(target.slice(hashAt + 1));
  const resolved =
    pathPart === ''
      ? path.join(PROJECT_ROOT, fromFile)
      : pathPart.startsWith('/')
        ? path.join(PROJECT_ROOT, pathPart)
        : path.resolve(PROJECT_ROOT, path.dirname(fromFile), pathPart);
  const relative = path.relative(PROJECT_ROOT, resolved);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return 'points outside the repository';
  if (!existsSync(resolved)) return `${relative} does not exist`;
  if (anchor === undefined) return undefined;
  if (!statSync(resolved).isFile() || !resolved.endsWith('.md')) {
    return /^L\d+(-L\d+)?$/.test(anchor) ? undefined : `#${anchor} on ${relative}, which has no headings`;
  }
  return anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)
    ? undefined
    : `${relative} has no heading with anchor #${anchor}`;
}

describe('the Markdown reading this test relies on', () => {
  it('makes anchors the way GitHub does', () => {
    expect(slugOf('Walk-through: `partition`')).toBe('walk-through-partition');
    expect(slugOf('results.json')).toBe('resultsjson');
    expect(slugOf('From `npm run scenario` to the report')).toBe('from-npm-run-scenario-to-the-report');
    expect(slugOf('signup_service & [the DNS](x.md)')).toBe('signup_service--the-dns');
    expect([...anchorsOf('# Notes\n## Notes\n```\n# not a heading\n```\n')]).toEqual(['notes', 'notes-1']);
  });

  it('finds links and images, but not inside code', () => {
    const markdown = [
      'See [a](a.md#x "title") and ![chart](img/c.png), [ext](https://example.com).',
      '`[not](code.md)`',
      '```',
      '[not](fenced.md)',
      '```',
      '[ref]: <docs/ref.md>',
    ].join('\n');
    expect(linksOf(markdown)).toEqual([
      { line: 1, target: 'a.md#x' },
      { line: 1, target: 'img/c.png' },
      { line: 1, target: 'https://example.com' },
      { line: 6, target: 'docs/ref.md' },
    ]);
  });
});

describe('documentation', () => {
  const files = documentationFiles();

  it('has pages under docs/', () => {
    expect(files.filter((file) => file.startsWith('docs'))).not.toEqual([]);
  });

  it.each(files)('%s: every relative link and image resolves, anchors included', (file) => {
    const broken = linksOf(read(file))
      .filter((link) => !isExternal(link.target))
      .flatMap((link) => {
        const problem = problemWith(file, link.target);
        return problem === undefined ? [] : [`${file}:${link.line}: (${link.target}) ${problem}`];
      });
    expect(broken).toEqual([]);
  });

  it(`README.md is the front door: at most ${README_MAX_LINES} lines`, () => {
    expect(read('README.md').trimEnd().split('\n').length).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('README.md links every top-level page under docs/, and each folder of docs/ by its README', () => {
    const linked = new Set(
      linksOf(read('README.md')).map((link) => path.normalize(link.target.split('#')[0] ?? '')),
    );
    // A folder (docs/workshop/) is one entry of the map: its README.md leads to the rest of it.
    const entries = files.filter(
      (file) =>
        file.startsWith('docs') && (path.dirname(file) === 'docs' || path.basename(file) === 'README.md'),
    );
    expect(entries.filter((file) => !linked.has(file))).toEqual([]);
  });

  it('every page in a folder of docs/ is linked from a page of that folder', () => {
    const nested = files.filter((file) => file.startsWith('docs') && path.dirname(file) !== 'docs');
    const linkedFromFolder = new Set(
      nested.flatMap((file) =>
        linksOf(read(file)).map((link) =>
          path.normalize(path.join(path.dirname(file), link.target.split('#')[0] ?? '')),
        ),
      ),
    );
    expect(
      nested.filter((file) => path.basename(file) !== 'README.md' && !linkedFromFolder.has(file)),
    ).toEqual([]);
  });
});

describe('the repository stands alone', () => {
  const SKIPPED_DIRS = new Set(['node_modules', '.git', '.lab', 'reports']);
  const TEXT_FILE = /\.(ts|js|json|md)$|(^|\/)Dockerfile$/;

  function textFiles(dir = ''): string[] {
    return readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : textFiles(relative);
      return TEXT_FILE.test(relative) && relative !== 'package-lock.json' ? [relative] : [];
    });
  }

  it('no file names a file its readers do not have', () => {
    const mentions = textFiles().flatMap((file) =>
      read(file)
        .split('\n')
        .flatMap((line, index) =>
          FILES_USERS_DO_NOT_HAVE.filter((name) => line.includes(name)).map(
            (name) => `${file}:${index + 1}: ${name}`,
          ),
        ),
    );
    expect(mentions).toEqual([]);
  });
});
