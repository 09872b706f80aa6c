import type { FaultWindow, PhaseWindow } from '../results.ts';
import type { DeploymentOptions, RuntimeAction } from '../runtime/runtime.ts';
import { describeFault, faultTarget, resolveFault, type Fault } from '../vocabulary/faults.ts';
import { ROUTES, type DeploymentName, type RouteName, type VariantName } from '../vocabulary/topology.ts';
import type { VariantDefinition } from '../vocabulary/variants.ts';
import type { RouteRate, Scenario } from './define-scenario.ts';
import type { RouteLoadModel } from '../vocabulary/load-models.ts';

/**
 * A stream of load on one route, the whole run long or only in a window of the timeline (a flood). A
 * closed-model stream has `connections` and a `ratePerSecond` of 0: the open-model schedule has nothing
 * due on it, so every stream keeps its index (the outcomes' `stream`) in both generators.
 */
export interface PlannedLoad {
  route: RouteName;
  ratePerSecond: number;
  connections?: number;
  fromS?: number;
  untilS?: number;
}

/** The planned stream of a route's load, open or closed. */
export function plannedStream(route: RouteName, load: RouteRate | RouteLoadModel): PlannedLoad {
  if ('connections' in load) return { route, ratePerSecond: 0, connections: load.connections };
  return { route, ratePerSecond: load.ratePerSecond };
}

/** The load model of a planned stream, as results.json and the report name it. */
export function streamLoadModel(stream: PlannedLoad): RouteLoadModel {
  return stream.connections === undefined
    ? { model: 'open', ratePerSecond: stream.ratePerSecond }
    : { model: 'closed', connections: stream.connections };
}

/** A route's load as a list of streams: one, or several at once. */
export function routeStreams(load: RouteRate | readonly RouteRate[]): readonly RouteRate[] {
  return Array.isArray(load) ? load : [load as RouteRate];
}

/** A variant's load on each route: the scenario's, with the variant's own where `loadByVariant` has one. */
export function variantLoad(
  scenario: Scenario,
  variant: VariantName,
): Record<RouteName, readonly RouteRate[]> {
  const load = { ...scenario.load, ...scenario.loadByVariant?.[variant] };
  return Object.fromEntries(ROUTES.map((route) => [route, routeStreams(load[route] ?? [])])) as Record<
    RouteName,
    readonly RouteRate[]
  >;
}

/** One fault of a phase, resolved once for one deployment. */
export interface PlannedFault {
  fault: Fault;
  /** The one-line description the log, the timeline and the report show. */
  description: string;
  /**
   * False when the fault does not touch this deployment (a `payment-api` partition in the monolith,
   * which has no such link): the runner logs it and applies nothing.
   */
  touches: boolean;
  /** Applied by the runtime at the phase start in this order; their undos run at its end, in reverse. */
  runtimeActions: RuntimeAction[];
  /** Extra load in the phase's window: the load generator's business, not the runtime's. */
  floods: PlannedLoad[];
}

export interface PlannedPhase {
  window: PhaseWindow;
  faults: PlannedFault[];
  /** Whether any of its faults touches this deployment: only then is recovery measured after it. */
  injects: boolean;
}

/** After a phase that injected something: routes are watched for recovery from its end (the heal) on. */
export interface RecoveryWindow {
  afterPhase: string;
  healAtS: number;
}

/**
 * Everything the timeline of one deployment will do, computed without I/O: what to start, the load
 * streams (steady and floods), each phase's window with its faults resolved into runtime actions, and
 * where recovery is measured.
 */
export interface DeploymentPlan {
  /** The variant's name (`split/retry`), the prefix of every log line. */
  label: VariantName;
  deployment: DeploymentName;
  start: Required<Pick<DeploymentOptions, 'settings' | 'quotas'>>;
  durationS: number;
  /** The steady load on every route, then the floods. */
  load: PlannedLoad[];
  phases: PlannedPhase[];
  recovery: RecoveryWindow[];
}

/** Phase windows on the timeline, in seconds from t = 0. */
export function phaseWindows(scenario: Scenario): PhaseWindow[] {
  let startS = 0;
  return scenario.timeline.map((phase) => {
    const window = { name: phase.name, startS, endS: startS + phase.durationS };
    startS = window.endS;
    return window;
  });
}

function planFault(fault: Fault, deployment: DeploymentName, window: PhaseWindow): PlannedFault {
  const actions = resolveFault(fault, deployment);
  return {
    fault,
    description: describeFault(fault),
    touches: actions.length > 0,
    runtimeActions: actions.flatMap((action) => (action.type === 'flood' ? [] : [action])),
    floods: actions.flatMap((action) =>
      action.type === 'flood'
        ? [{ ...plannedStream(action.route, action.load), fromS: window.startS, untilS: window.endS }]
        : [],
    ),
  };
}

/**
 * The run plan of one variant of a scenario. Pure: each fault is resolved once, here.
 *
 * @example
 *   const plan = planDeployment(partitionScenario, monolith());
 *   plan.phases[1]?.faults[0]?.touches // false: the monolith has no payment-api link
 *   plan.recovery                      // []: nothing was injected, so nothing to recover from
 */
export function planDeployment(scenario: Scenario, variant: VariantDefinition): DeploymentPlan {
  const phases = phaseWindows(scenario).map((window, index) => {
    const faults = (scenario.timeline[index]?.faults ?? []).map((fault) =>
      planFault(fault, variant.deployment, window),
    );
    return { window, faults, injects: faults.some((fault) => fault.touches) };
  });
  return {
    label: variant.name,
    deployment: variant.deployment,
    start: {
      // The scenario's hash cost reaches the services like a variant's settings, and shows beside them.
      settings:
        scenario.scryptN === undefined
          ? variant.settings
          : { ...variant.settings, SCRYPT_N: String(scenario.scryptN) },
      quotas: scenario.quotas,
    },
    durationS: scenario.durationS,
    load: [
      ...ROUTES.flatMap((route) =>
        variantLoad(scenario, variant.name)[route].map((load) => plannedStream(route, load)),
      ),
      ...phases.flatMap((phase) => phase.faults.flatMap((fault) => fault.floods)),
    ],
    phases,
    recovery: phases.flatMap((phase) =>
      phase.injects ? [{ afterPhase: phase.window.name, healAtS: phase.window.endS }] : [],
    ),
  };
}

/** Every fault of the timeline with its window and the variants it touches, for the report's timeline. */
export function faultWindows(scenario: Scenario): FaultWindow[] {
  const plans = scenario.variants.map((variant) => planDeployment(scenario, variant));
  return phaseWindows(scenario).flatMap((window, phaseIndex) =>
    (scenario.timeline[phaseIndex]?.faults ?? []).map((fault, faultIndex) => ({
      fault: fault.kind,
      link: faultTarget(fault),
      description: describeFault(fault),
      definition: { ...fault } as FaultWindow['definition'],
      startS: window.startS,
      endS: window.endS,
      deployments: plans
        .filter((plan) => plan.phases[phaseIndex]?.faults[faultIndex]?.touches)
        .map((plan) => plan.label),
    })),
  );
}
