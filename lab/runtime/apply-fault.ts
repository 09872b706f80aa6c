import { LabError } from '../errors.ts';
import { describeFault, resolveFault, type Fault } from '../vocabulary/faults.ts';
import type { StartedDeployment, Undo } from './runtime.ts';

/**
 * Applies a fault to a running deployment and returns one undo for all it did. For tests and scripts;
 * scenario runs resolve faults themselves so floods can go to the load generator.
 *
 * @example
 *   const heal = await applyFault(split, partition('payment-api'));
 *   await heal();
 */
export async function applyFault(deployment: StartedDeployment, fault: Fault): Promise<Undo> {
  const actions = resolveFault(fault, deployment.deployment);
  if (actions.length === 0) {
    throw new LabError(
      'INVALID_SCENARIO',
      `"${describeFault(fault)}" does not apply to ${deployment.deployment}`,
    );
  }
  const undos: Undo[] = [];
  for (const action of actions) {
    if (action.type === 'flood')
      throw new LabError('INVALID_SCENARIO', 'a flood needs the load generator: use it in a scenario');
    undos.push(await deployment.apply(action));
  }
  let undone: Promise<void> | undefined;
  return () => {
    undone ??= (async () => {
      for (const undo of undos.reverse()) await undo();
    })();
    return undone;
  };
}
