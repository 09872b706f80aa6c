/**
 * The side of `status`, `fault` and `heal`: finds the running lab by its state file and asks it over
 * its control socket. No lab up (no state file, or the state of a lab that is gone) is a `NoLabUpError`.
 */
import http from 'node:http';
import { LabError, type LabErrorCode } from '../errors.ts';
import type { Fault } from '../vocabulary/faults.ts';
import {
  isLabProcess,
  readLabState,
  removeControlFiles,
  type ControlPaths,
  type LabState,
} from './control-files.ts';
import type { ControlErrorBody, FaultApplyAnswer, HealAnswer, LabStatus } from './control-protocol.ts';

export const NO_LAB_UP = 'no lab is up; start one with npm run lab -- up';

/** Nothing to talk to: `status`, `fault` and `heal` exit 1 with this. */
export class NoLabUpError extends LabError {
  constructor(detail = '') {
    super('USAGE', `${NO_LAB_UP}${detail}`);
    this.name = 'NoLabUpError';
  }
}

/**
 * Longer than any operation of the lab: an apply reads back for 2 s; healing a crash restarts the
 * service and waits until it is healthy (up to 30 s on containers).
 */
const REQUEST_TIMEOUT_MS = 90_000;

/** The state of the lab that is up, or NoLabUpError; the files of a lab that is gone are removed. */
export async function findLab(paths: ControlPaths): Promise<LabState> {
  const state = await readLabState(paths);
  if (!state) throw new NoLabUpError();
  if (!isLabProcess(state.pid)) {
    await removeControlFiles(paths);
    throw new NoLabUpError(` (the lab of pid ${state.pid} is gone; its control files were removed)`);
  }
  return state;
}

function ask<T>(paths: ControlPaths, method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const request = http.request(
      {
        socketPath: paths.socket,
        path: route,
        method,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
        timeout: REQUEST_TIMEOUT_MS,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            reject(
              new LabError(
                'USAGE',
                `the lab answered ${method} ${route} with something that is not JSON: ${text.slice(0, 200)}`,
              ),
            );
            return;
          }
          const failure = (parsed as Partial<ControlErrorBody>).error;
          if ((response.statusCode ?? 500) >= 400 || failure) {
            reject(
              new LabError(
                (failure?.code ?? 'USAGE') as LabErrorCode,
                failure?.message ?? `the lab answered ${method} ${route} with status ${response.statusCode}`,
              ),
            );
            return;
          }
          resolve(parsed as T);
        });
      },
    );
    request.on('timeout', () =>
      request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)),
    );
    request.on('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'ENOENT' || error.code === 'ECONNREFUSED'
          ? 'its control socket is not there yet or any more (is it starting or stopping?)'
          : error.code === 'EACCES'
            ? 'its control socket belongs to another user'
            : error.message;
      reject(new LabError('USAGE', `could not reach the lab at ${paths.socket}: ${why}`, { cause: error }));
    });
    request.end(payload);
  });
}

export function fetchStatus(paths: ControlPaths): Promise<LabStatus> {
  return ask<LabStatus>(paths, 'GET', '/status');
}

export function sendFault(paths: ControlPaths, fault: Fault): Promise<FaultApplyAnswer> {
  return ask<FaultApplyAnswer>(paths, 'POST', '/faults', { fault });
}

export function sendHeal(paths: ControlPaths, which?: { kind: string; target: string }): Promise<HealAnswer> {
  return ask<HealAnswer>(paths, 'POST', '/heal', which ?? {});
}
