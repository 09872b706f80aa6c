/**
 * `npm run lab -- up`: the runtime and one deployment, kept running until Ctrl-C or SIGTERM, with
 * optional steady load and live view, and a control socket through which `status`, `fault` and `heal`
 * reach it. On the way out everything is undone and stopped in order, the control files are removed, and
 * the time it took is said.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { STEADY_LOAD } from '../../scenarios/_steady-load.ts';
import type { RuntimeChoice } from '../cli/scenario-args.ts';
import { DEFAULTS } from '../defaults.ts';
import { EXIT_HYPOTHESIS_HELD, EXIT_RUN_INVALID, isLabError, LabError } from '../errors.ts';
import { fanOut, type RunWatcher, type SecondTally } from '../live/run-events.ts';
import { tallySeconds, type SecondTallier } from '../live/second-tally.ts';
import { driveLoad, type LoadRun } from '../load/drive-load.ts';
import { describeAction, observeAction, type ObserveClock } from '../measure/fault-evidence.ts';
import { scrapeMetrics, type MetricsScraper } from '../measure/metrics-scraper.ts';
import { chooseRuntime } from '../runtime/choose-runtime.ts';
import type { LabLog, StartedDeployment, StartedLab } from '../runtime/runtime.ts';
import { teardownProblems } from '../runtime/stop-calmly.ts';
import type { Fault, FaultAction } from '../vocabulary/faults.ts';
import { ROUTES, type DeploymentName, type RouteName } from '../vocabulary/topology.ts';
import {
  claimLab,
  removeControlFiles,
  writeLabState,
  type ControlPaths,
  type LabState,
} from './control-files.ts';
import type { LabStatus } from './control-protocol.ts';
import { startControlServer } from './control-server.ts';
import { checkFaultFits } from './hand-fault.ts';
import { OPEN_ENDED_S, startFlood } from './hand-flood.ts';
import { createHandFaults, type AppliedPart, type HandFaults } from './hand-faults.ts';
import { formatUpBanner, STEADY_LOAD_RATES } from './lab-text.ts';

export interface LabUpOptions {
  deployment: DeploymentName;
  runtime: RuntimeChoice;
  load: boolean;
  live?: { port: number; host: string };
  paths: ControlPaths;
  /** Ctrl-C or SIGTERM: stop and tear everything down. */
  signal: AbortSignal;
  /** performance.now() when `signal` aborted, for the time the teardown took. */
  abortedAtMs(): number | undefined;
  /** Progress and events, to stderr. */
  log: LabLog;
  /** What the user came for (addresses, the ready line), to stdout. */
  print(text: string): void;
}

const OBSERVE_CLOCK: ObserveClock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}).catch(() => undefined),
};

/** The steady load with its tally and scraper: the live view's and `status`'s numbers. */
interface RunningLoad {
  tally: SecondTallier;
  scraper: MetricsScraper;
  load: LoadRun;
  /** Stops the load, the scraper and the tally; outcomes after this are not counted. Safe to call twice. */
  stop(): Promise<void>;
}

function startSteadyLoad(started: StartedDeployment, startedAtMs: number, watcher: RunWatcher): RunningLoad {
  const tally = tallySeconds({
    label: started.deployment,
    routes: ROUTES,
    services: started.services.map((service) => service.name),
    startedAtMs,
    watcher,
  });
  const scraper = scrapeMetrics(
    started.services,
    startedAtMs,
    (service, sample) => tally.sample(service, sample),
    false,
  );
  const controller = new AbortController();
  let stopping = false;
  const load = driveLoad({
    routes: ROUTES.map((route) => ({
      route,
      url: started.routeUrl(route),
      ratePerSecond: STEADY_LOAD[route].ratePerSecond,
    })),
    durationS: OPEN_ENDED_S,
    timeoutMs: DEFAULTS.clientTimeoutMs,
    maxInFlightPerRoute: DEFAULTS.maxInFlightPerRoute,
    runTag: `lab${randomBytes(4).toString('hex')}`,
    startedAtMs,
    signal: controller.signal,
    keepOutcomes: false,
    // Requests cut by the stop are not failures of the system: they are not counted.
    onOutcome: (outcome) => {
      if (!stopping) tally.outcome(outcome);
    },
  });
  let stopped: Promise<void> | undefined;
  return {
    tally,
    scraper,
    load,
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        controller.abort();
        await load.finished.catch(() => undefined);
        await scraper.stop();
        tally.stop();
      })();
      return stopped;
    },
  };
}

function secondsBetween(fromMs: number, toMs: number): string {
  return ((toMs - fromMs) / 1000).toFixed(2);
}

/**
 * Runs the lab until `signal` aborts (exit 0 once everything is torn down) or one of the lab's own
 * dependencies dies (exit 3). A second `up` while this one runs is refused (USAGE) before anything starts.
 */
export async function runLabUp(options: LabUpOptions): Promise<number> {
  const { log, paths } = options;
  const startedMs = performance.now();
  const state: LabState = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    status: 'starting',
    deployment: options.deployment,
    runtime: options.runtime,
    load: options.load,
    socket: paths.socket,
  };
  await claimLab(paths, state, log);
  let hand: HandFaults | undefined;
  let lastSecond: SecondTally | null = null;
  let failed: string | undefined;
  let steady: RunningLoad | undefined;
  let started: StartedDeployment | undefined;
  const label = options.deployment;
  // Undone in reverse: heal the faults, stop the load, the live view, the deployment and the lab, then
  // close the control socket and remove the control files, last, so no second up starts meanwhile.
  const teardown = new AsyncDisposableStack();
  teardown.defer(() => removeControlFiles(paths));
  try {
    const control = await startControlServer(paths.socket, {
      status: (): LabStatus => ({
        state,
        uptimeS: Math.round((performance.now() - startedMs) / 100) / 10,
        faults: hand?.active() ?? [],
        lastSecond,
        ...(failed ? { failed } : {}),
      }),
      applyFault: async (fault: Fault) => {
        if (!hand) throw new LabError('USAGE', `the lab is ${state.status}; wait for its ready line`);
        checkFaultFits(fault, options.deployment);
        if (fault.kind === 'flood' && !steady)
          throw new LabError(
            'USAGE',
            'a flood is extra load on top of the steady load, and this lab runs none: start it with npm run lab -- up --load ' +
              '(or send your own requests to the route URLs that status prints)',
          );
        return await hand.apply(fault);
      },
      heal: async (which) => {
        if (!hand) throw new LabError('USAGE', `the lab is ${state.status}; no fault is in effect`);
        return await hand.heal(which);
      },
    });
    teardown.defer(() => control.close());

    const statusWatcher: RunWatcher = {
      emit: (event) => {
        if (event.type === 'second') lastSecond = event;
      },
    };
    let watcher: RunWatcher = statusWatcher;
    let liveUrl: string | undefined;
    if (options.live) {
      // Loaded only when asked for: the lab runs without the live view's code.
      const { startLiveServer } = await import('../live/live-server.ts');
      const live = await startLiveServer({ host: options.live.host, port: options.live.port, log });
      teardown.defer(() => live.close());
      watcher = fanOut([statusWatcher, live.watcher]);
      liveUrl = live.url;
      log(`live view: ${live.url}`);
    }
    // Told before the deployment stops, or, when the start failed, before the live view closes.
    let runFinished = false;
    const finishRun = (): void => {
      if (runFinished) return;
      runFinished = true;
      if (started) watcher.emit({ type: 'deployment-finished', label });
      watcher.emit({ type: 'run-finished', verdict: null, ...(failed ? { error: failed } : {}) });
    };
    teardown.defer(finishRun);
    const runtime = await chooseRuntime(options.runtime, { log });
    state.runtime = runtime.name;
    await writeLabState(paths, state);
    watcher.emit({
      type: 'run-started',
      scenario: {
        name: 'lab up',
        title: `Interactive lab: ${options.deployment}`,
        claim:
          'Faults are applied by hand: npm run lab -- fault <kind> <target>, healed with npm run lab -- heal.',
      },
      runtime: runtime.name,
      phases: [],
      faults: [],
      variants: [{ label, deployment: options.deployment }],
      durationS: null,
    });
    log(`starting the ${runtime.name} runtime ...`);
    const lab: StartedLab = await runtime.start({ log });
    teardown.defer(() => lab.stop());
    if (options.signal.aborted) return await finish();
    log(`starting ${options.deployment} ...`);
    const deployment = await lab.startDeployment(options.deployment);
    started = deployment;
    teardown.defer(() => deployment.stop());
    teardown.defer(finishRun);
    if (options.signal.aborted) return await finish();
    const startedAtMs = performance.now();
    const routeUrls = Object.fromEntries(
      ROUTES.map((route) => [route, deployment.routeUrl(route)]),
    ) as Record<RouteName, string>;
    watcher.emit({ type: 'deployment-started', label, deployment: options.deployment, routeUrls });
    if (options.load) {
      steady = startSteadyLoad(deployment, startedAtMs, watcher);
      const running = steady;
      teardown.defer(() => running.stop());
    }
    const steadyNow = steady;
    const applyAction = async (action: FaultAction): Promise<AppliedPart> => {
      if (action.type === 'flood') {
        if (!steadyNow) throw new LabError('USAGE', 'a flood needs up --load');
        if (action.load.model === 'closed')
          throw new LabError(
            'USAGE',
            'a flood by hand is open-model only: give it a rate (--rate-per-second); closed-model floods run in scenarios',
          );
        return startFlood({
          route: action.route,
          url: deployment.routeUrl(action.route),
          ratePerSecond: action.load.ratePerSecond,
          runTag: `flood${randomBytes(4).toString('hex')}`,
          onOutcome: (outcome) => steadyNow.tally.outcome(outcome),
        });
      }
      const undo = await deployment.apply(action);
      return {
        action: describeAction(action),
        undo,
        observe: (inEffect) => observeAction(deployment, action, inEffect, OBSERVE_CLOCK),
      };
    };
    const faults = createHandFaults({
      deployment: options.deployment,
      label,
      applyAction,
      watcher,
      log,
      startedAtMs,
    });
    hand = faults;
    teardown.defer(async () => {
      const healed = await faults.shutdown();
      if (healed.healed.length > 0)
        log(
          `healed ${healed.healed.length} fault(s) on the way out: ${healed.healed.map((fault) => fault.id).join(', ')}`,
        );
    });
    state.status = 'ready';
    state.urls = {
      routes: routeUrls,
      metrics: Object.fromEntries(deployment.services.map((service) => [service.name, service.metricsUrl])),
      ...(lab.details.toxiproxyApi ? { toxiproxyApi: lab.details.toxiproxyApi } : {}),
      ...(lab.details.dns ? { dns: lab.details.dns } : {}),
      ...(liveUrl ? { live: liveUrl } : {}),
    };
    await writeLabState(paths, state);
    log(`ready after ${secondsBetween(startedMs, performance.now())} s`);
    options.print(formatUpBanner(state, STEADY_LOAD_RATES));
    const ended = AbortSignal.any([options.signal, lab.failed]);
    if (!ended.aborted)
      await new Promise((resolve) => ended.addEventListener('abort', resolve, { once: true }));
    if (!options.signal.aborted && lab.failed.aborted) {
      const reason: unknown = lab.failed.reason;
      failed = isLabError(reason) ? reason.message : String(reason);
      log(`${failed}; stopping the lab`);
      await finish();
      return EXIT_RUN_INVALID;
    }
    return await finish();
  } finally {
    await teardown
      .disposeAsync()
      .catch((error: unknown) => log(`the teardown went on past: ${teardownProblems(error).join('; ')}`));
  }

  /** The teardown, timed; exit 0: the lab was stopped as asked. */
  async function finish(): Promise<number> {
    state.status = 'stopping';
    await writeLabState(paths, state).catch(() => undefined);
    log(
      options.signal.aborted
        ? 'stopping: healing the faults, stopping the load and the lab ...'
        : 'stopping ...',
    );
    const fromMs = options.abortedAtMs() ?? performance.now();
    // Every step runs even when one fails; what failed is said in one line, not a stack trace.
    await teardown
      .disposeAsync()
      .catch((error: unknown) => log(`the teardown went on past: ${teardownProblems(error).join('; ')}`));
    const took = secondsBetween(fromMs, performance.now());
    log(
      `stopped; everything torn down ${took} s after ${options.signal.aborted ? 'the signal' : 'the stop began'}`,
    );
    return EXIT_HYPOTHESIS_HELD;
  }
}
