import type { FaultWindow, PhaseWindow } from '../results.ts';
import type { Fault } from '../vocabulary/faults.ts';
import type { DeploymentName, RouteName, VariantName } from '../vocabulary/topology.ts';

/**
 * What a run tells whoever watches it while it goes on: the live view in a browser, the progress block
 * in a terminal. Plain data, sent as it happens; a watcher can never slow the run down or change it
 * (see `RunWatcher`).
 */
export type RunEvent =
  | RunStarted
  | DeploymentStarted
  | PhaseStarted
  | FaultApplied
  | FaultUndone
  | SecondTally
  | DeploymentFinished
  | RunFinished;

/** A run of one scenario starts (or, for `lab up`, an open-ended session with no timeline). */
export interface RunStarted {
  type: 'run-started';
  /** `partition`, or `lab up` for the interactive lab. */
  scenario: { name: string; title: string; claim: string };
  runtime: string;
  /** The timeline every deployment runs; empty for the interactive lab (it runs until Ctrl-C). */
  phases: PhaseWindow[];
  faults: FaultWindow[];
  /** The columns, in the order they run. */
  variants: { label: VariantName; deployment: DeploymentName }[];
  /** Seconds of timeline per deployment; null when open-ended. */
  durationS: number | null;
  /** For `all`: which scenario of how many this is, and the planned timeline seconds of those still to come. */
  batch?: { index: number; count: number; remainingTimelineS: number };
}

/** One deployment's services are up and its timeline starts now: t = 0. */
export interface DeploymentStarted {
  type: 'deployment-started';
  label: VariantName;
  deployment: DeploymentName;
  /** Where each route is reached, for the interactive lab's status and the live view. */
  routeUrls: Record<RouteName, string>;
}

export interface PhaseStarted {
  type: 'phase-started';
  label: VariantName;
  phase: string;
  startS: number;
  endS: number;
}

/** A fault took effect (read back from the tools), by the timeline or by hand (`npm run lab -- fault`). */
export interface FaultApplied {
  type: 'fault-applied';
  label: VariantName;
  /** Unique within the run: the matching `fault-undone` carries the same id. */
  id: string;
  fault: Fault;
  description: string;
  source: 'timeline' | 'hand';
  /** Seconds since the deployment's t = 0. */
  atS: number;
}

export interface FaultUndone {
  type: 'fault-undone';
  label: VariantName;
  id: string;
  atS: number;
}

/** What the routes and services did in the last second: sent once a second while load runs. */
export interface SecondTally {
  type: 'second';
  label: VariantName;
  /** Seconds since the deployment's t = 0, at the end of the second tallied. */
  t: number;
  /** Outcomes that completed in that second, per route. */
  routes: {
    route: RouteName;
    ok: number;
    /** Failures by cause (`deadline`, `connection_refused`, ...), the causes of the report. */
    failures: Record<string, number>;
    /** Of every outcome completed in that second; null when none did. */
    latencyMs: { p50: number; p90: number; p99: number } | null;
  }[];
  /** The last scrape of each service's /metrics (null fields: the scrape failed, e.g. crashed). */
  services: {
    service: string;
    requestsInFlight: number | null;
    outboundInFlight: number | null;
    circuitState: string | null;
  }[];
}

export interface DeploymentFinished {
  type: 'deployment-finished';
  label: VariantName;
}

export interface RunFinished {
  type: 'run-finished';
  /** null when the run was interrupted or failed before a verdict. */
  verdict: 'held' | 'failed' | 'invalid' | null;
  /** Absolute path of the report's index.html, once written. */
  reportPath?: string;
  /** Why there is no report, when there is none. */
  error?: string;
}

/**
 * Receives the events of a run. `emit` is called synchronously from the run; it must return at once
 * (buffer, drop, render later) and never throw: the run never waits on a watcher.
 */
export interface RunWatcher {
  emit(event: RunEvent): void;
}

/** One watcher made of several; an exception in one is swallowed so the run and the others go on. */
export function fanOut(watchers: readonly (RunWatcher | undefined)[]): RunWatcher {
  const present = watchers.filter((watcher): watcher is RunWatcher => watcher !== undefined);
  return {
    emit(event) {
      for (const watcher of present) {
        try {
          watcher.emit(event);
        } catch {
          // A broken watcher must not break the run.
        }
      }
    },
  };
}

/** The watcher that ignores everything: the default. */
export const NO_WATCHER: RunWatcher = { emit: () => undefined };
