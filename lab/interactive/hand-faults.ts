/**
 * The faults applied by hand to the one running deployment: each applied action by action, read back
 * from the tools until it is in effect (or undone again and reported), told to the live view, and
 * healed in reverse order. One operation at a time, so two terminals cannot interleave an apply and a
 * heal on the same link.
 */
import { DEFAULTS } from '../defaults.ts';
import { LabError } from '../errors.ts';
import type { RunWatcher } from '../live/run-events.ts';
import type { ObservedState } from '../measure/fault-evidence.ts';
import { resolveFault, type Fault, type FaultAction } from '../vocabulary/faults.ts';
import type { DeploymentName } from '../vocabulary/topology.ts';
import type { ActiveFaultView, FaultApplyAnswer, HealAnswer, HealedFault } from './control-protocol.ts';
import { faultTargetName } from '../vocabulary/faults.ts';
import { checkFaultFits, describeHandFault, faultMatches } from './hand-fault.ts';

/** One applied action of a fault: how to read it back and how to undo it. */
export interface AppliedPart {
  /** `timeout toxics on payment-api`, `kill signup-service`, `flood on pay: +50/s`. */
  action: string;
  /** Reads the state until it shows `inEffect` (or the observation's timeout). */
  observe(inEffect: boolean): Promise<ObservedState>;
  /** Safe to call twice. */
  undo(): Promise<void>;
}

export interface HandFaultsOptions {
  deployment: DeploymentName;
  /** The label the live view shows the deployment under. */
  label: string;
  /** Applies one action of a fault (a runtime action, or a flood for the load). */
  applyAction(action: FaultAction): Promise<AppliedPart>;
  watcher: RunWatcher;
  log(line: string): void;
  /** performance.now() of the deployment's t = 0. */
  startedAtMs: number;
  now?: () => number;
}

export interface HandFaults {
  apply(fault: Fault): Promise<FaultApplyAnswer>;
  /** Heals the fault `<kind> <target>` names, or every fault (newest first) when `which` is absent. */
  heal(which?: { kind: string; target: string }): Promise<HealAnswer>;
  active(): ActiveFaultView[];
  /**
   * The lab is stopping: refuses every later operation, waits for the one under way, then heals every
   * fault (newest first). Safe to call twice.
   */
  shutdown(): Promise<HealAnswer>;
}

interface ActiveFault {
  view: ActiveFaultView;
  actions: FaultAction[];
  parts: AppliedPart[];
}

/**
 * What an action holds while it is in effect. Two faults may not hold the same thing: undoing one would
 * also undo the other (a link's enabled flag, a DNS name's mode, a service's process, a route's flood),
 * and two identical toxics could not be told apart when read back.
 */
export function heldBy(action: FaultAction): string {
  switch (action.type) {
    case 'link':
      return action.fault.kind === 'outage'
        ? `${action.fault.link} (up or down)`
        : `${action.fault.link} (${JSON.stringify(action.fault)})`;
    case 'dns':
      return `DNS ${action.name}`;
    case 'crash':
    case 'stall':
    case 'deploy':
      return `the process of ${action.service}`;
    case 'flood':
      return `the flood on ${action.route}`;
    default:
      return action satisfies never;
  }
}

async function undoAll(parts: readonly AppliedPart[]): Promise<string[]> {
  const problems: string[] = [];
  for (const part of [...parts].reverse()) {
    try {
      await part.undo();
    } catch (error) {
      problems.push(`${part.action}: ${(error as Error).message}`);
    }
  }
  return problems;
}

export function createHandFaults(options: HandFaultsOptions): HandFaults {
  const now = options.now ?? (() => performance.now());
  const active: ActiveFault[] = [];
  let sequence = 0;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  let shuttingDown: Promise<HealAnswer> | undefined;
  const atS = (): number => Math.round(now() - options.startedAtMs) / 1000;

  /** Runs `work` after every operation before it, never two at once. */
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    if (closed)
      return Promise.reject(new LabError('INTERRUPTED', 'the lab is stopping; it takes no more faults'));
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  const apply = async (fault: Fault): Promise<FaultApplyAnswer> => {
    checkFaultFits(fault, options.deployment);
    const target = faultTargetName(fault);
    const same = active.find((entry) => entry.view.fault.kind === fault.kind && entry.view.target === target);
    if (same)
      throw new LabError(
        'USAGE',
        `${fault.kind} on ${target} is already in effect (${same.view.id}, since ${same.view.appliedAt}); ` +
          `heal it first: npm run lab -- heal ${fault.kind} ${target}`,
      );
    const actions = resolveFault(fault, options.deployment);
    for (const action of actions) {
      const holder = active.find((entry) => entry.actions.some((held) => heldBy(held) === heldBy(action)));
      if (holder)
        throw new LabError(
          'USAGE',
          `${heldBy(action)} is already taken by ${holder.view.fault.kind} ${holder.view.target} (${holder.view.id}); ` +
            `heal it first: npm run lab -- heal ${holder.view.fault.kind} ${holder.view.target}`,
        );
    }
    const startedMs = now();
    const parts: AppliedPart[] = [];
    try {
      for (const action of actions) parts.push(await options.applyAction(action));
    } catch (error) {
      const left = await undoAll(parts);
      throw new LabError(
        'FAULT_NOT_OBSERVED',
        `could not apply ${describeHandFault(fault)}: ${(error as Error).message}` +
          (left.length > 0
            ? `; undoing what was applied also failed: ${left.join('; ')}`
            : '; nothing of it is left'),
        { cause: error },
      );
    }
    const observed = await Promise.all(parts.map((part) => part.observe(true)));
    const missed = observed.flatMap((state, index) =>
      state.expected ? [] : [`${parts[index]?.action ?? '?'} (last read: ${state.evidence})`],
    );
    if (missed.length > 0) {
      const left = await undoAll(parts);
      throw new LabError(
        'FAULT_NOT_OBSERVED',
        `${describeHandFault(fault)} was not observed in effect within ${DEFAULTS.observeTimeoutMs} ms: ${missed.join('; ')}; ` +
          (left.length > 0 ? `undoing it also failed: ${left.join('; ')}` : 'it was undone again'),
      );
    }
    sequence += 1;
    const view: ActiveFaultView = {
      id: `hand-${sequence}`,
      fault,
      target,
      description: describeHandFault(fault),
      appliedAt: new Date().toISOString(),
      atS: atS(),
      evidence: observed.map((state, index) => `${parts[index]?.action ?? '?'}: ${state.evidence}`),
    };
    // A deploy is done once the new version answers: nothing is left in effect to heal.
    const stays = fault.kind === 'deploy';
    if (!stays) active.push({ view, actions, parts });
    options.watcher.emit({
      type: 'fault-applied',
      label: options.label,
      id: view.id,
      fault,
      description: view.description,
      source: 'hand',
      atS: view.atS,
    });
    if (stays) options.watcher.emit({ type: 'fault-undone', label: options.label, id: view.id, atS: atS() });
    const observedAfterMs = Math.round(now() - startedMs);
    options.log(
      stays
        ? `deploy ${view.id} done after ${observedAfterMs} ms (${view.evidence.join('; ')}): ${view.description}`
        : `fault ${view.id} in effect after ${observedAfterMs} ms: ${view.description}`,
    );
    return { applied: view, observedAfterMs };
  };

  const healOne = async (entry: ActiveFault): Promise<HealedFault> => {
    const problems = await undoAll(entry.parts);
    const observed = await Promise.all(entry.parts.map((part) => part.observe(false)));
    active.splice(active.indexOf(entry), 1);
    options.watcher.emit({ type: 'fault-undone', label: options.label, id: entry.view.id, atS: atS() });
    const gone = problems.length === 0 && observed.every((state) => state.expected);
    const evidence = [
      ...problems,
      ...observed.map((state, index) => `${entry.parts[index]?.action ?? '?'}: ${state.evidence}`),
    ];
    options.log(
      gone
        ? `fault ${entry.view.id} healed: ${entry.view.description}`
        : `fault ${entry.view.id} healed, but NOT observed gone: ${evidence.join('; ')}`,
    );
    return { id: entry.view.id, description: entry.view.description, observed: gone, evidence };
  };

  const heal = async (which?: { kind: string; target: string }): Promise<HealAnswer> => {
    const chosen = which
      ? active.filter((entry) => faultMatches(entry.view.fault, which.kind, which.target))
      : [...active];
    if (which && chosen.length === 0) {
      const inEffect = active.map((entry) => `${entry.view.fault.kind} ${entry.view.target}`);
      throw new LabError(
        'USAGE',
        `no ${which.kind} on ${which.target} is in effect; ` +
          (inEffect.length > 0 ? `in effect: ${inEffect.join(', ')}` : 'no fault is in effect'),
      );
    }
    const healed: HealedFault[] = [];
    for (const entry of chosen.reverse()) healed.push(await healOne(entry));
    return { healed };
  };

  return {
    apply: (fault) => serially(() => apply(fault)),
    heal: (which) => serially(() => heal(which)),
    active: () => active.map((entry) => entry.view),
    shutdown: () => {
      closed = true;
      shuttingDown ??= queue.then(() => heal());
      return shuttingDown;
    },
  };
}
