import { describe, expect, it } from 'vitest';
import { isLabError, LabError } from '../../lab/errors.ts';
import { createHandFaults, type AppliedPart } from '../../lab/interactive/hand-faults.ts';
import type { RunEvent } from '../../lab/live/run-events.ts';
import type { ObservedState } from '../../lab/measure/fault-evidence.ts';
import { dbOutage, latency, partition, type FaultAction } from '../../lab/vocabulary/faults.ts';
import type { DeploymentName } from '../../lab/vocabulary/topology.ts';

/** A fake lab whose tools show what it is told: every apply and undo is recorded in `journal`. */
function fakeLab(
  options: {
    deployment?: DeploymentName;
    showsInEffect?: boolean;
    showsGone?: boolean;
    applyFails?: string;
  } = {},
) {
  const journal: string[] = [];
  const events: RunEvent[] = [];
  const key = (action: FaultAction): string =>
    action.type === 'link' ? `${action.fault.kind} ${action.fault.link}` : action.type;
  const applyAction = async (action: FaultAction): Promise<AppliedPart> => {
    if (options.applyFails && key(action).includes(options.applyFails)) throw new Error('Toxiproxy said no');
    journal.push(`apply ${key(action)}`);
    const observed = (expected: boolean): ObservedState => ({
      expected,
      atMs: 1,
      evidence: `read ${key(action)}`,
    });
    return {
      action: key(action),
      observe: async (inEffect) =>
        observed(inEffect ? (options.showsInEffect ?? true) : (options.showsGone ?? true)),
      undo: async () => {
        journal.push(`undo ${key(action)}`);
      },
    };
  };
  const faults = createHandFaults({
    deployment: options.deployment ?? 'split',
    label: 'split',
    applyAction,
    watcher: { emit: (event) => events.push(event) },
    log: () => undefined,
    startedAtMs: 0,
    now: () => 12_345,
  });
  return { faults, journal, events };
}

async function labError(promise: Promise<unknown>): Promise<LabError> {
  try {
    await promise;
  } catch (error) {
    if (isLabError(error)) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('createHandFaults', () => {
  it('applies, tells the watcher (source hand), lists, and heals with the same id', async () => {
    const { faults, journal, events } = fakeLab();
    const answer = await faults.apply(partition('payment-api'));
    expect(answer.applied).toMatchObject({
      id: 'hand-1',
      target: 'payment-api',
      atS: 12.345,
      evidence: ['partition payment-api: read partition payment-api'],
    });
    expect(faults.active().map((fault) => fault.id)).toEqual(['hand-1']);
    expect(events).toEqual([
      expect.objectContaining({
        type: 'fault-applied',
        id: 'hand-1',
        source: 'hand',
        label: 'split',
        atS: 12.345,
      }),
    ]);
    const healed = await faults.heal({ kind: 'partition', target: 'payment-api' });
    expect(healed.healed).toEqual([expect.objectContaining({ id: 'hand-1', observed: true })]);
    expect(faults.active()).toEqual([]);
    expect(events.at(-1)).toEqual({ type: 'fault-undone', label: 'split', id: 'hand-1', atS: 12.345 });
    expect(journal).toEqual(['apply partition payment-api', 'undo partition payment-api']);
  });

  it('heals every fault newest first, each fault its actions in reverse', async () => {
    const { faults, journal } = fakeLab();
    await faults.apply(partition('payment-api'));
    await faults.apply(dbOutage('split'));
    journal.length = 0;
    const healed = await faults.heal();
    expect(healed.healed.map((fault) => fault.id)).toEqual(['hand-2', 'hand-1']);
    expect(journal).toEqual([
      'undo outage payment-db',
      'undo outage signup-db',
      'undo partition payment-api',
    ]);
  });

  it('undoes a fault that is not observed in effect, and says so with the last read', async () => {
    const { faults, journal, events } = fakeLab({ showsInEffect: false });
    const error = await labError(faults.apply(dbOutage('split')));
    expect(error.code).toBe('FAULT_NOT_OBSERVED');
    expect(error.message).toContain('was not observed in effect within 2000 ms');
    expect(error.message).toContain('last read: read outage signup-db');
    expect(error.message).toContain('it was undone again');
    expect(journal).toEqual([
      'apply outage signup-db',
      'apply outage payment-db',
      'undo outage payment-db',
      'undo outage signup-db',
    ]);
    expect(faults.active()).toEqual([]);
    expect(events).toEqual([]);
  });

  it('undoes what was applied when a later action of the same fault fails', async () => {
    const { faults, journal } = fakeLab({ applyFails: 'payment-db' });
    const error = await labError(faults.apply(dbOutage('split')));
    expect(error.code).toBe('FAULT_NOT_OBSERVED');
    expect(error.message).toContain('Toxiproxy said no; nothing of it is left');
    expect(journal).toEqual(['apply outage signup-db', 'undo outage signup-db']);
  });

  it('refuses a second fault of the same kind on the same target, or one that holds the same thing', async () => {
    const { faults } = fakeLab();
    await faults.apply(dbOutage('payment'));
    expect((await labError(faults.apply(dbOutage('payment')))).message).toContain(
      'dbOutage on payment is already in effect (hand-1',
    );
    const overlapping = await labError(faults.apply(dbOutage('split')));
    expect(overlapping.code).toBe('USAGE');
    expect(overlapping.message).toContain(
      'payment-db (up or down) is already taken by dbOutage payment (hand-1)',
    );
    expect(overlapping.message).toContain('npm run lab -- heal dbOutage payment');
    // Different toxics on one link can be told apart: both may be in effect.
    await faults.apply(latency('payment-api', { ms: 100 }));
    await faults.apply(partition('payment-api'));
    expect(faults.active()).toHaveLength(3);
  });

  it('refuses a fault for the other deployment, and a heal of what is not in effect', async () => {
    const { faults } = fakeLab({ deployment: 'monolith' });
    expect((await labError(faults.apply(partition('payment-api')))).message).toContain(
      'payment-api is a link of split; this lab runs monolith',
    );
    expect((await labError(faults.heal({ kind: 'outage', target: 'edge-monolith' }))).message).toBe(
      'no outage on edge-monolith is in effect; no fault is in effect',
    );
  });

  it('reports a heal whose read-back still shows the fault', async () => {
    const { faults } = fakeLab({ showsGone: false });
    await faults.apply(partition('payment-api'));
    const healed = await faults.heal();
    expect(healed.healed).toEqual([expect.objectContaining({ id: 'hand-1', observed: false })]);
    expect(faults.active()).toEqual([]);
  });

  it('on shutdown heals everything once and then refuses more', async () => {
    const { faults, journal } = fakeLab();
    await faults.apply(partition('payment-api'));
    const [first, second] = await Promise.all([faults.shutdown(), faults.shutdown()]);
    expect(first.healed.map((fault) => fault.id)).toEqual(['hand-1']);
    expect(second).toBe(first);
    expect(journal.filter((line) => line.startsWith('undo'))).toHaveLength(1);
    expect((await labError(faults.apply(partition('payment-api')))).code).toBe('INTERRUPTED');
  });

  it('runs one operation at a time: a heal waits for the apply before it', async () => {
    const { faults } = fakeLab();
    const apply = faults.apply(partition('payment-api'));
    const heal = faults.heal({ kind: 'partition', target: 'payment-api' });
    await apply;
    expect((await heal).healed.map((fault) => fault.id)).toEqual(['hand-1']);
  });
});
