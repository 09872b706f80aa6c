/**
 * Stable error codes: a report, a test or a CI log can group by `code`, and the message says which
 * limit was hit and what to do next.
 */
export type LabErrorCode =
  | 'USAGE'
  | 'UNKNOWN_SCENARIO'
  | 'INVALID_SCENARIO'
  | 'TOOL_MISSING'
  | 'STARTUP_TIMEOUT'
  | 'PROCESS_EXITED'
  | 'PORT_IN_USE'
  | 'TOXIPROXY_API'
  | 'INTERRUPTED'
  // The lab could not do what the scenario asked: one of its own dependencies died, or a fault it
  // applied was not observed. The run is invalid (exit code 3); the system under test is not blamed.
  | 'DEPENDENCY_FAILED'
  | 'FAULT_NOT_OBSERVED'
  // The containers runtime.
  | 'DOCKER_UNAVAILABLE'
  | 'IMAGE_BUILD'
  | 'IMAGE_UNAVAILABLE'
  | 'CONTAINER_START'
  // Reading a results.json back (lab/report/read-results.ts).
  | 'REPORT_RESULTS_UNREADABLE'
  | 'REPORT_RESULTS_NOT_JSON'
  | 'REPORT_RESULTS_INVALID'
  | 'REPORT_SCHEMA_UNSUPPORTED';

export class LabError extends Error {
  readonly code: LabErrorCode;

  constructor(code: LabErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LabError';
    this.code = code;
  }
}

export function isLabError(error: unknown): error is LabError {
  return error instanceof LabError;
}

/** Usage and set-up errors exit with 2; a hypothesis that did not hold exits with 1. */
export const EXIT_HYPOTHESIS_HELD = 0;
export const EXIT_HYPOTHESIS_FAILED = 1;
export const EXIT_USAGE_OR_SETUP = 2;
/** The lab could not do what the scenario asked (a fault not observed, a dependency of the lab died). */
export const EXIT_RUN_INVALID = 3;
