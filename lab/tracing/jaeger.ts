/**
 * Jaeger, for browsing a run's traces beyond the report's exemplars: `npm run setup -- --jaeger` builds
 * it into .lab/bin, and the lab runs it all-in-one (in-memory storage) on free loopback ports, its
 * process held by the lab's lifeline like toxiproxy-server, its configuration in a lab temp dir.
 *
 * Jaeger v1.76's `cmd/jaeger` is the v2 binary: an OpenTelemetry Collector distribution configured by
 * one YAML file (receivers, the `jaeger_storage` and `jaeger_query` extensions, a pipeline).
 */
import { spawnSync } from 'node:child_process';
import { access, constants, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '../errors.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import { startProcess, type GroupKeeper, type StartedProcess } from '../runtime/child-process.ts';
import { makeLabTempDir } from '../runtime/lab-temp-dirs.ts';
import { findFreePort } from '../runtime/ports.ts';
import type { LabLog } from '../runtime/runtime.ts';

export const JAEGER_VERSION = 'v1.76.0';
export const JAEGER_PACKAGE = 'github.com/jaegertracing/jaeger/cmd/jaeger';
export const JAEGER_MODULE = 'github.com/jaegertracing/jaeger';
export const JAEGER_BINARY = 'jaeger';
/** Traces Jaeger keeps in memory; the oldest go first. A run of the lab sends far fewer. */
const JAEGER_MAX_TRACES = 100_000;
/** A go build of Jaeger downloads and compiles several hundred modules: minutes, not seconds. */
const BUILD_TIMEOUT_MS = 30 * 60_000;

export interface StartedJaeger extends AsyncDisposable {
  /** Base URL of its OTLP/HTTP receiver: spans go to `${otlpEndpoint}/v1/traces`. */
  readonly otlpEndpoint: string;
  /** Its UI and query API (`${queryUrl}/api/traces?service=monolith`). */
  readonly queryUrl: string;
  readonly process: StartedProcess;
  /** The lab temp dir holding its configuration; removed by stop(). */
  readonly configDir: string;
  /** Stops the process and removes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** `.lab/bin/jaeger` under the project root. */
export function jaegerBinaryPath(projectRoot = PROJECT_ROOT): string {
  return path.join(projectRoot, '.lab', 'bin', JAEGER_BINARY);
}

function howToInstall(projectRoot: string): string {
  return `Install it with \`npm run setup -- --jaeger\` (needs Go >= 1.24 and a few minutes), which builds ${JAEGER_PACKAGE}@${JAEGER_VERSION} into ${path.dirname(jaegerBinaryPath(projectRoot))}.`;
}

/** The installed binary, or undefined when `npm run setup -- --jaeger` has not run. */
export async function locateJaeger(projectRoot = PROJECT_ROOT): Promise<string | undefined> {
  const binary = jaegerBinaryPath(projectRoot);
  try {
    await access(binary, constants.X_OK);
    return binary;
  } catch {
    return undefined;
  }
}

/**
 * Builds Jaeger into `.lab/bin/jaeger` unless it is there already; returns its path. The build goes to
 * a private folder first, so a half-written binary is never found by the next run.
 *
 * @example
 *   const binary = await ensureJaegerInstalled(console.log);
 */
export async function ensureJaegerInstalled(log: LabLog, projectRoot = PROJECT_ROOT): Promise<string> {
  const existing = await locateJaeger(projectRoot);
  if (existing) return existing;
  const binary = jaegerBinaryPath(projectRoot);
  const go = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (go.status !== 0) {
    throw new LabError(
      'TOOL_MISSING',
      `jaeger is not in ${path.dirname(binary)} and Go is not installed to build it. ${howToInstall(projectRoot)}`,
    );
  }
  log(
    `jaeger not found; building ${JAEGER_PACKAGE}@${JAEGER_VERSION} into ${path.dirname(binary)} (a few minutes) ...`,
  );
  await mkdir(path.dirname(binary), { recursive: true });
  const buildDir = await makeLabTempDir('gobin');
  try {
    const installed = runGo(['install', '-ldflags=-s -w', `${JAEGER_PACKAGE}@${JAEGER_VERSION}`], {
      GOBIN: buildDir,
    });
    if (installed.status !== 0) {
      // `go install pkg@version` refuses a module whose go.mod has replace directives, as Jaeger's has:
      // then build it as its own main module, from the module cache, which honours them.
      if (!/replace directives/.test(installed.stderr))
        throw buildFailed('go install', installed, projectRoot);
      const downloaded = runGo(['mod', 'download', '-json', `${JAEGER_MODULE}@${JAEGER_VERSION}`], {});
      if (downloaded.status !== 0) throw buildFailed('go mod download', downloaded, projectRoot);
      const moduleDir = (JSON.parse(downloaded.stdout) as { Dir?: string }).Dir;
      if (!moduleDir) throw buildFailed('go mod download', downloaded, projectRoot);
      const built = runGo(
        ['build', '-trimpath', '-ldflags=-s -w', '-o', path.join(buildDir, JAEGER_BINARY), './cmd/jaeger'],
        {},
        moduleDir,
      );
      if (built.status !== 0) throw buildFailed('go build', built, projectRoot);
    }
    await rename(path.join(buildDir, JAEGER_BINARY), binary);
  } finally {
    await rm(buildDir, { recursive: true, force: true });
  }
  return binary;
}

function runGo(
  args: string[],
  env: Record<string, string>,
  cwd?: string,
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('go', args, {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
    ...(cwd ? { cwd } : {}),
  });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function buildFailed(
  step: string,
  result: { status: number | null; stderr: string },
  projectRoot: string,
): LabError {
  return new LabError(
    'TOOL_MISSING',
    `${step} of ${JAEGER_PACKAGE}@${JAEGER_VERSION} failed (exit ${result.status}): ${result.stderr.trim().slice(-800)}\n${howToInstall(projectRoot)}`,
  );
}

/**
 * The all-in-one configuration: OTLP over HTTP in, memory storage, the query API and UI, nothing else
 * listening (no gRPC receiver, no sampling or health endpoints, no metrics of its own), all on loopback.
 */
export function jaegerConfig(ports: { otlpHttp: number; queryHttp: number; queryGrpc: number }): string {
  return `# Written by the lab for one run of Jaeger; removed when it stops.
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info

extensions:
  jaeger_storage:
    backends:
      lab_memory:
        memory:
          max_traces: ${JAEGER_MAX_TRACES}
  jaeger_query:
    storage:
      traces: lab_memory
    enable_tracing: false
    http:
      endpoint: "127.0.0.1:${ports.queryHttp}"
    grpc:
      endpoint: "127.0.0.1:${ports.queryGrpc}"

receivers:
  otlp:
    protocols:
      http:
        endpoint: "127.0.0.1:${ports.otlpHttp}"

processors:
  batch:

exporters:
  jaeger_storage_exporter:
    trace_storage: lab_memory
`;
}

/**
 * Runs Jaeger all-in-one and waits until its query API answers. Throws TOOL_MISSING when it is not
 * installed (the message says how to install it).
 *
 * @example
 *   await using jaeger = await startJaeger({ log: console.log, lifeline });
 *   await startTraceCollector({ forwardTo: [{ name: 'Jaeger', endpoint: jaeger.otlpEndpoint }] });
 *   console.log(`traces: ${jaeger.queryUrl}`);
 */
export async function startJaeger(options: {
  log: LabLog;
  /** Holds its process group, so it dies with the lab even on kill -9 (the local runtime's lifeline). */
  lifeline?: GroupKeeper;
  /** Default: .lab/bin/jaeger. */
  binary?: string;
  timeoutMs?: number;
}): Promise<StartedJaeger> {
  const binary = options.binary ?? (await locateJaeger());
  if (!binary) {
    throw new LabError(
      'TOOL_MISSING',
      `jaeger is not installed (${jaegerBinaryPath()}). ${howToInstall(PROJECT_ROOT)}`,
    );
  }
  const timeoutMs = options.timeoutMs ?? 20_000;
  const started = performance.now();
  const configDir = await makeLabTempDir('jaeger');
  let running: StartedProcess | undefined;
  try {
    // A free port can be taken between the probe and Jaeger's bind; Jaeger then exits, and says so.
    const ports = {
      otlpHttp: await findFreePort(),
      queryHttp: await findFreePort(),
      queryGrpc: await findFreePort(),
    };
    const configFile = path.join(configDir, 'jaeger.yaml');
    await writeFile(configFile, jaegerConfig(ports));
    const { process: jaegerProcess } = await startProcess({
      name: 'jaeger',
      command: binary,
      args: [`--config=file:${configFile}`],
      cwd: configDir,
      // The collector logs this once every receiver, extension and pipeline has started.
      readyWhen: (line) => (line.includes('Everything is ready') ? true : undefined),
      timeoutMs,
      ...(options.lifeline ? { lifeline: options.lifeline } : {}),
    });
    running = jaegerProcess;
    const queryUrl = `http://127.0.0.1:${ports.queryHttp}`;
    await waitForQueryApi(
      queryUrl,
      jaegerProcess,
      Math.max(1_000, timeoutMs - (performance.now() - started)),
    );
    options.log(`jaeger: UI and query API at ${queryUrl}`);
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        await jaegerProcess.stop();
        await rm(configDir, { recursive: true, force: true });
      })();
      return stopping;
    };
    return {
      otlpEndpoint: `http://127.0.0.1:${ports.otlpHttp}`,
      queryUrl,
      process: jaegerProcess,
      configDir,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await running?.stop();
    await rm(configDir, { recursive: true, force: true });
    throw error;
  }
}

async function waitForQueryApi(queryUrl: string, jaeger: StartedProcess, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastProblem = '';
  while (performance.now() < deadline) {
    if (!jaeger.isRunning()) {
      throw new LabError(
        'PROCESS_EXITED',
        `jaeger ${await jaeger.ended} before its query API answered (a port taken between the lab's probe and its bind? start it again). Last output:\n${jaeger.outputTail()}`,
      );
    }
    try {
      const response = await fetch(`${queryUrl}/api/services`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.ok) return;
      lastProblem = `HTTP ${response.status}`;
    } catch (error) {
      lastProblem = String((error as Error).message);
    }
    await sleep(50);
  }
  throw new LabError(
    'STARTUP_TIMEOUT',
    `jaeger started but its query API (${queryUrl}/api/services) did not answer within ${Math.round(timeoutMs)} ms (${lastProblem}). Last output:\n${jaeger.outputTail()}`,
  );
}
