import { describe, expect, it } from 'vitest';
import { describeHandFault } from '../../lab/interactive/hand-fault.ts';
import { createHandFaults, type AppliedPart } from '../../lab/interactive/hand-faults.ts';
import type { RunEvent } from '../../lab/live/run-events.ts';
import { crash, deploy, stall, type FaultAction } from '../../lab/vocabulary/faults.ts';

/** A fake lab whose tools always show the action in effect; every apply and undo lands in `journal`. */
function fakeLab() {
  const journal: string[] = [];
  const events: RunEvent[] = [];
  const applyAction = async (action: FaultAction): Promise<AppliedPart> => {
    journal.push(`apply ${action.type}`);
    return {
      action: action.type,
      observe: async () => ({ expected: true, atMs: 1, evidence: `read ${action.type}` }),
      undo: async () => {
        journal.push(`undo ${action.type}`);
      },
    };
  };
  const faults = createHandFaults({
    deployment: 'split',
    label: 'split',
    applyAction,
    watcher: { emit: (event) => events.push(event) },
    log: () => undefined,
    startedAtMs: 0,
    now: () => 1000,
  });
  return { faults, journal, events };
}

describe('a deploy by hand', () => {
  it('is done once applied: not kept in effect, not undone by heal, and says so', async () => {
    const { faults, journal, events } = fakeLab();
    const answer = await faults.apply(deploy('payment-service', { version: 'v2' }));
    expect(answer.applied.description).toContain('heal does not undo a deploy');
    expect(faults.active()).toEqual([]);
    // The live view shows it as an event: applied, and over at once.
    expect(events.map((event) => event.type)).toEqual(['fault-applied', 'fault-undone']);
    expect((await faults.heal()).healed).toEqual([]);
    expect(journal).toEqual(['apply deploy']);
  });

  it('may follow a healed crash, and is refused while a stall holds the process', async () => {
    const { faults } = fakeLab();
    await faults.apply(crash('payment-service'));
    await faults.heal();
    await faults.apply(deploy('payment-service'));
    await faults.apply(stall('payment-service'));
    await expect(faults.apply(deploy('payment-service'))).rejects.toThrow(
      'the process of payment-service is already taken by stall payment-service (hand-3)',
    );
  });

  it('describes a stall by hand as thawed when healed', () => {
    expect(describeHandFault(stall('payment-service'))).toBe(
      'payment-service frozen (nothing answered); thawed when healed',
    );
  });
});
