/**
 * What `status`, `fault` and `heal` send to the running `up`, and what it answers: JSON over HTTP on the
 * control socket. An error is `{ error: { code, message } }` with a LabError code, so the client can
 * exit with the same code a local error would have.
 *
 *   GET  /status                      -> LabStatus
 *   POST /faults  { fault }           -> 201 FaultApplyAnswer
 *   POST /heal    { kind?, target? }  -> 200 HealAnswer (no kind and target: every fault)
 */
import type { LabErrorCode } from '../errors.ts';
import type { SecondTally } from '../live/run-events.ts';
import type { Fault } from '../vocabulary/faults.ts';
import type { LabState } from './control-files.ts';

/** A fault in effect, as `status` shows it. */
export interface ActiveFaultView {
  id: string;
  fault: Fault;
  /** `payment-api`, `payment`, `pay`: as written on the command line. */
  target: string;
  description: string;
  /** ISO time it was observed in effect. */
  appliedAt: string;
  /** Seconds since the deployment started. */
  atS: number;
  /** What the tools showed, one line per action of the fault. */
  evidence: string[];
}

export interface LabStatus {
  state: LabState;
  uptimeS: number;
  faults: ActiveFaultView[];
  /** The last second the load tallied, when `--load` runs. */
  lastSecond: SecondTally | null;
  /** Set once a dependency of the lab has died: the lab is going down. */
  failed?: string;
}

export interface FaultApplyAnswer {
  applied: ActiveFaultView;
  /** From the apply until every action read back in effect. */
  observedAfterMs: number;
}

export interface HealedFault {
  id: string;
  description: string;
  /** True when the tools showed every action gone after the undo. */
  observed: boolean;
  evidence: string[];
}

export interface HealAnswer {
  healed: HealedFault[];
}

export interface ControlErrorBody {
  error: { code: LabErrorCode; message: string };
}
