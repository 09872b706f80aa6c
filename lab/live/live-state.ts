/**
 * What the live view knows about the run it watches: a pure reducer from the run's events to one state
 * object, and the snapshot the server sends to every viewer. Pure so it is unit-tested without a run,
 * and so the server can fold thousands of events a second without touching the network.
 */
import { basename } from 'node:path';
import { CAUSE_COLOURS, causeColour, SUCCESS_COLOUR } from '../report/charts.ts';
import type { FaultWindow, PhaseWindow } from '../results.ts';
import { faultTargetName, type Fault } from '../vocabulary/faults.ts';
import type { DeploymentName, RouteName, VariantName } from '../vocabulary/topology.ts';
import type { RunEvent, RunStarted, SecondTally } from './run-events.ts';

/** Seconds of per-second figures kept per route and service: the interactive lab runs for hours. */
export const SECONDS_KEPT = 300;
/** Faults kept per column, applied and undone; the interactive lab can apply any number by hand. */
export const FAULTS_KEPT = 50;

export type ColumnStatus = 'pending' | 'running' | 'done';

/** One second of one route, as tallied when its outcomes completed. */
export interface LiveSecond {
  /** Seconds since the column's t = 0, at the end of the second tallied. */
  t: number;
  ok: number;
  failures: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number } | null;
}

export interface LiveRoute {
  route: RouteName;
  /** The last {@link SECONDS_KEPT} seconds, oldest first. */
  seconds: LiveSecond[];
  /** Every outcome since the column started, not only the kept seconds. */
  totals: { ok: number; failures: Record<string, number> };
}

/** The in-flight figures of one service at one second. */
export interface LiveServiceSecond {
  t: number;
  requestsInFlight: number | null;
  outboundInFlight: number | null;
}

export interface LiveService {
  service: string;
  /** The latest scrape: null when it failed (the service is down) or the service has no such figure. */
  requestsInFlight: number | null;
  outboundInFlight: number | null;
  circuitState: string | null;
  /** The last {@link SECONDS_KEPT} seconds, oldest first. */
  history: LiveServiceSecond[];
}

/** A fault that took effect in a column, and when it went away (null: still in effect). */
export interface LiveFault {
  id: string;
  fault: Fault;
  /** What it acts on, in a word: `payment-api`, `signup-service`, `payment` (a database), `checkout`. */
  target: string;
  description: string;
  source: 'timeline' | 'hand';
  /** The phase it belongs to (timeline faults); null for faults applied by hand. */
  phase: string | null;
  fromS: number;
  untilS: number | null;
}

export interface LivePhase {
  name: string;
  startS: number;
  endS: number;
}

/** One column of the run: a variant, run one after the other. */
export interface LiveColumn {
  label: VariantName;
  deployment: DeploymentName;
  status: ColumnStatus;
  phase: LivePhase | null;
  /** Seconds since the column's t = 0, as far as the events tell. */
  t: number;
  routeUrls: Record<RouteName, string> | null;
  routes: LiveRoute[];
  services: LiveService[];
  /** Oldest first; the active ones have `untilS === null`. */
  faults: LiveFault[];
}

export interface LiveRun {
  scenario: RunStarted['scenario'];
  runtime: string;
  phases: PhaseWindow[];
  faults: FaultWindow[];
  durationS: number | null;
  batch: RunStarted['batch'] | null;
}

export interface LiveState {
  /** Counts every event folded in: the server sends a snapshot only when it moved. */
  version: number;
  run: LiveRun | null;
  columns: LiveColumn[];
  /** The column the view follows: the one that started last. */
  current: VariantName | null;
  /** Failure causes in the order they first appeared: each keeps its colour for the whole run. */
  causes: string[];
  finished: {
    verdict: 'held' | 'failed' | 'invalid' | null;
    reportPath: string | null;
    error: string | null;
  } | null;
}

export const INITIAL_LIVE_STATE: LiveState = {
  version: 0,
  run: null,
  columns: [],
  current: null,
  causes: [],
  finished: null,
};

/**
 * Folds one event into the state; never mutates its arguments. Events of a column the state does not
 * know (a `second` before its `deployment-started`) are counted in `version` and otherwise ignored.
 *
 * @example const state = events.reduce(reduceLiveState, INITIAL_LIVE_STATE);
 */
export function reduceLiveState(state: LiveState, event: RunEvent): LiveState {
  const version = state.version + 1;
  switch (event.type) {
    case 'run-started':
      return {
        ...INITIAL_LIVE_STATE,
        version,
        run: {
          scenario: event.scenario,
          runtime: event.runtime,
          phases: event.phases,
          faults: event.faults,
          durationS: event.durationS,
          batch: event.batch ?? null,
        },
        columns: event.variants.map((variant) => emptyColumn(variant.label, variant.deployment)),
      };
    case 'deployment-started': {
      const known = state.columns.some((column) => column.label === event.label);
      const columns = known ? state.columns : [...state.columns, emptyColumn(event.label, event.deployment)];
      return {
        ...state,
        version,
        current: event.label,
        columns: columns.map((column) =>
          column.label === event.label
            ? {
                ...emptyColumn(event.label, event.deployment),
                status: 'running',
                routeUrls: event.routeUrls,
              }
            : column,
        ),
      };
    }
    case 'phase-started':
      return updateColumn(state, version, event.label, (column) => ({
        ...column,
        phase: { name: event.phase, startS: event.startS, endS: event.endS },
        t: Math.max(column.t, event.startS),
      }));
    case 'fault-applied':
      return updateColumn(state, version, event.label, (column) => ({
        ...column,
        t: Math.max(column.t, event.atS),
        faults: [
          ...column.faults.filter((fault) => fault.id !== event.id),
          {
            id: event.id,
            fault: event.fault,
            target: faultTargetName(event.fault),
            description: event.description,
            source: event.source,
            phase: event.source === 'timeline' ? (column.phase?.name ?? null) : null,
            fromS: event.atS,
            untilS: null,
          },
        ].slice(-FAULTS_KEPT),
      }));
    case 'fault-undone':
      return updateColumn(state, version, event.label, (column) => ({
        ...column,
        t: Math.max(column.t, event.atS),
        faults: column.faults.map((fault) =>
          fault.id === event.id && fault.untilS === null ? { ...fault, untilS: event.atS } : fault,
        ),
      }));
    case 'second':
      return foldSecond(state, version, event);
    case 'deployment-finished':
      return updateColumn(state, version, event.label, finishColumn);
    case 'run-finished':
      return {
        ...state,
        version,
        // An interrupted run ends its running column too; the columns it never reached stay pending.
        columns: state.columns.map((column) => (column.status === 'running' ? finishColumn(column) : column)),
        finished: {
          verdict: event.verdict,
          reportPath: event.reportPath ?? null,
          error: event.error ?? null,
        },
      };
  }
}

function emptyColumn(label: VariantName, deployment: DeploymentName): LiveColumn {
  return {
    label,
    deployment,
    status: 'pending',
    phase: null,
    t: 0,
    routeUrls: null,
    routes: [],
    services: [],
    faults: [],
  };
}

/** A torn-down deployment has no fault in effect any more, whatever events were lost. */
function finishColumn(column: LiveColumn): LiveColumn {
  return {
    ...column,
    status: 'done',
    faults: column.faults.map((fault) => (fault.untilS === null ? { ...fault, untilS: column.t } : fault)),
  };
}

function updateColumn(
  state: LiveState,
  version: number,
  label: VariantName,
  update: (column: LiveColumn) => LiveColumn,
): LiveState {
  return {
    ...state,
    version,
    columns: state.columns.map((column) => (column.label === label ? update(column) : column)),
  };
}

function foldSecond(state: LiveState, version: number, event: SecondTally): LiveState {
  const causes = [...state.causes];
  for (const route of event.routes) {
    for (const [cause, count] of Object.entries(route.failures)) {
      if (count > 0 && !causes.includes(cause)) causes.push(cause);
    }
  }
  const keptFrom = event.t - SECONDS_KEPT;
  const next = updateColumn(state, version, event.label, (column) => ({
    ...column,
    t: Math.max(column.t, event.t),
    routes: event.routes.map((tally): LiveRoute => {
      const before = column.routes.find((route) => route.route === tally.route);
      const second: LiveSecond = {
        t: event.t,
        ok: tally.ok,
        failures: tally.failures,
        latencyMs: tally.latencyMs,
      };
      return {
        route: tally.route,
        seconds: [...recentSince(before?.seconds ?? [], keptFrom), second],
        totals: {
          ok: (before?.totals.ok ?? 0) + tally.ok,
          failures: addCounts(before?.totals.failures ?? {}, tally.failures),
        },
      };
    }),
    services: event.services.map((sample): LiveService => {
      const before = column.services.find((service) => service.service === sample.service);
      return {
        service: sample.service,
        requestsInFlight: sample.requestsInFlight,
        outboundInFlight: sample.outboundInFlight,
        circuitState: sample.circuitState,
        history: [
          ...recentSince(before?.history ?? [], keptFrom),
          {
            t: event.t,
            requestsInFlight: sample.requestsInFlight,
            outboundInFlight: sample.outboundInFlight,
          },
        ],
      };
    }),
  }));
  return causes.length === state.causes.length ? next : { ...next, causes };
}

/** The entries after `from`; oldest first, so usually the list as it is. */
function recentSince<T extends { t: number }>(list: readonly T[], from: number): readonly T[] {
  return (list[0]?.t ?? Infinity) > from ? list : list.filter((entry) => entry.t > from);
}

function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const sum = { ...a };
  for (const [key, count] of Object.entries(b)) sum[key] = (sum[key] ?? 0) + count;
  return sum;
}

/** The column the view follows, or the first one before any started. */
export function currentColumn(state: LiveState): LiveColumn | null {
  return state.columns.find((column) => column.label === state.current) ?? state.columns[0] ?? null;
}

/** The faults in effect in a column, oldest first. */
export function activeFaults(column: LiveColumn): LiveFault[] {
  return column.faults.filter((fault) => fault.untilS === null);
}

/** How the diagram of a deployment with these faults in effect is drawn (renderTopologyDiagram). */
export type DrawTopology = (
  deployment: DeploymentName,
  faults: readonly { fault: Fault; label?: string }[],
) => string;

/** What every viewer receives: the state, the running column's diagram, and the colour of each outcome. */
export interface LiveSnapshot extends Omit<LiveState, 'finished'> {
  /** The diagram of the current column with its faults in effect, drawn on the server (an inline SVG). */
  topology: { label: VariantName; deployment: DeploymentName; svg: string } | null;
  /** `success` and each failure cause: the report's palette, in the order causes first appeared. */
  colours: Record<string, string>;
  /** The report's address on this server rather than its path on disk, which is nobody's business. */
  finished: {
    verdict: 'held' | 'failed' | 'invalid' | null;
    reportHref: string | null;
    error: string | null;
  } | null;
}

/** Where the live server serves a report directory once the run has written it. */
export const REPORT_PREFIX = '/report/';

/**
 * The snapshot of a state. `drawTopology` is renderTopologyDiagram (the server memoises it: the same
 * faults give the same picture).
 *
 * @example liveSnapshot(state, (deployment, faults) => renderTopologyDiagram(deployment, faults))
 */
export function liveSnapshot(state: LiveState, drawTopology: DrawTopology): LiveSnapshot {
  const column = currentColumn(state);
  const colours: Record<string, string> = { success: SUCCESS_COLOUR };
  // The report's colour for each known cause; other causes keep the spare colour of their first sighting.
  state.causes
    .filter((cause) => !(cause in CAUSE_COLOURS))
    .forEach((cause, index) => (colours[cause] = causeColour(cause, index)));
  for (const cause of state.causes) colours[cause] ??= causeColour(cause, 0);
  return {
    version: state.version,
    run: state.run,
    columns: state.columns,
    current: state.current,
    causes: state.causes,
    topology: column
      ? {
          label: column.label,
          deployment: column.deployment,
          svg: drawTopology(
            column.deployment,
            activeFaults(column).map((fault) => ({
              fault: fault.fault,
              label: fault.phase ?? 'by hand',
            })),
          ),
        }
      : null,
    colours,
    finished: state.finished
      ? {
          verdict: state.finished.verdict,
          reportHref:
            state.finished.reportPath === null
              ? null
              : REPORT_PREFIX + encodeURIComponent(basename(state.finished.reportPath)),
          error: state.finished.error,
        }
      : null,
  };
}
