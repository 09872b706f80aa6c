import type { Toxiproxy } from 'toxiproxy-node-client';
import type { DnsControl } from './dns-control.ts';
import { LabError } from '../errors.ts';
import type { ActionObservation, RuntimeAction, Undo } from './runtime.ts';
import type { DeploymentName, LinkName } from '../vocabulary/topology.ts';
import type { ServiceVersion } from '../../services/runtime/service-version.ts';
import { applyLinkFault, judgeLinkFault, readProxyState } from './toxiproxy-links.ts';

/** What differs between runtimes when a fault is applied: only how a service dies and comes back. */
export interface RuntimeActionTarget {
  deployment: DeploymentName;
  links: ReadonlySet<LinkName>;
  toxiproxy: Toxiproxy;
  dnsServer: DnsControl;
  services: ReadonlySet<string>;
  /** Kills the service (SIGKILL) and returns how to start it again and wait until it is healthy. */
  kill(service: string): Promise<() => Promise<void>>;
  /** The service's process or container as the runtime sees it: running or not, and what was read. */
  serviceState(service: string): Promise<ServiceState>;
  /** Freezes the service (SIGSTOP / docker pause) and returns how to thaw it. */
  stall(service: string): Promise<() => Promise<void>>;
  /** Redeploys the service (SIGTERM, drain, new process or container, healthy) and says how it went. */
  deploy(service: string, options: { version?: ServiceVersion; drainMs: number }): Promise<DeployReport>;
  /** The version the service answers on its direct (not proxied) /healthz, or why it could not be read. */
  runningVersion(service: string): Promise<RunningVersion>;
  /** The last deploy of the service in this deployment, if any. */
  lastDeploy(service: string): DeployReport | undefined;
}

export interface RunningVersion {
  /** /healthz answered 200. */
  healthy: boolean;
  /** The version it reported, if it did. */
  version: string | undefined;
  evidence: string;
}

export interface ServiceState {
  running: boolean;
  /** True while the process is frozen (state `T` in /proc, or the container `Paused`). */
  stalled: boolean;
  /** What was read: `pid 1234 running` or `container exited, ExitCode 137`. */
  evidence: string;
}

/** What one deploy did, with its timings: the fault evidence records them. */
export interface DeployReport {
  service: string;
  /** The version the new process runs: the one asked for, or the one that ran before. */
  version: string;
  /** From SIGTERM until the old process was gone. */
  stoppedAfterMs: number;
  /** True when the old process exited by itself within the drain; false when it had to be SIGKILLed. */
  drained: boolean;
  /** How the old process ended, in words (`exited with code 0`, `was killed by SIGKILL`). */
  oldEnded: string;
  /** From SIGTERM until the new process answered /healthz. */
  healthyAfterMs: number;
}

/** `deploy payment-service: SIGTERM, exited after 0.4 s (drained), v2 healthy after 1.2 s`. */
export function describeDeploy(report: DeployReport): string {
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const drain = report.drained
    ? `${report.oldEnded} after ${seconds(report.stoppedAfterMs)} (drained)`
    : `${report.oldEnded} after ${seconds(report.stoppedAfterMs)} (did not drain in time)`;
  return `deploy ${report.service}: SIGTERM, old process ${drain}, ${report.version} healthy after ${seconds(report.healthyAfterMs)}`;
}

/**
 * Applies one resolved fault action on either runtime and returns its undo, which runs its work at
 * most once however often it is called.
 */
export async function applyRuntimeAction(target: RuntimeActionTarget, action: RuntimeAction): Promise<Undo> {
  const known = (service: string): void => {
    if (!target.services.has(service))
      throw new LabError('INVALID_SCENARIO', `no service ${service} in ${target.deployment}`);
  };
  switch (action.type) {
    case 'link':
      if (!target.links.has(action.fault.link)) {
        throw new LabError(
          'INVALID_SCENARIO',
          `link ${action.fault.link} does not exist in ${target.deployment}`,
        );
      }
      return await applyLinkFault(target.toxiproxy, action.fault);
    case 'dns':
      await target.dnsServer.setMode(action.name, action.mode);
      return async () => target.dnsServer.setMode(action.name, 'answer');
    case 'crash': {
      known(action.service);
      const restart = await target.kill(action.service);
      let restarted: Promise<void> | undefined;
      return () => {
        restarted ??= restart();
        return restarted;
      };
    }
    case 'stall': {
      known(action.service);
      const thaw = await target.stall(action.service);
      let thawed: Promise<void> | undefined;
      return () => {
        thawed ??= thaw();
        return thawed;
      };
    }
    case 'deploy': {
      known(action.service);
      await target.deploy(action.service, {
        ...(action.version ? { version: action.version } : {}),
        drainMs: action.drainMs,
      });
      // A deploy stays, as after a real one: the new version runs on after the phase.
      return async () => undefined;
    }
  }
}

/**
 * Reads back from the tools whether `action` is in effect: the proxy's toxics or enabled flag from
 * Toxiproxy's API, the DNS server's mode and the queries it answered per mode, the service's process
 * or container state (a crash is in effect while the service is not running).
 */
export async function observeRuntimeAction(
  target: RuntimeActionTarget,
  action: RuntimeAction,
): Promise<ActionObservation> {
  switch (action.type) {
    case 'link': {
      const state = await readProxyState(target.toxiproxy, action.fault.link);
      return { atMs: performance.now(), ...judgeLinkFault(action.fault, state) };
    }
    case 'dns': {
      const mode = await target.dnsServer.modeOf(action.name);
      const answered = Object.entries(await target.dnsServer.queriesByMode(action.name))
        .map(([answeredMode, count]) => `${answeredMode} ${count}`)
        .join(', ');
      return {
        atMs: performance.now(),
        inEffect: mode === action.mode,
        evidence: `${action.name}: answering ${mode ?? 'nxdomain (no record)'}; queries answered per mode so far: ${answered || 'none'}`,
      };
    }
    case 'crash': {
      const state = await target.serviceState(action.service);
      return {
        atMs: performance.now(),
        inEffect: !state.running,
        evidence: `${action.service}: ${state.evidence}`,
      };
    }
    case 'stall': {
      const state = await target.serviceState(action.service);
      return {
        atMs: performance.now(),
        inEffect: state.stalled,
        evidence: `${action.service}: ${state.evidence}`,
      };
    }
    case 'deploy': {
      const running = await target.runningVersion(action.service);
      const last = target.lastDeploy(action.service);
      // A redeploy of the same code is in effect once done and healthy; a new version, once it answers.
      const inEffect =
        last !== undefined &&
        running.healthy &&
        (action.version === undefined || running.version === action.version);
      return {
        atMs: performance.now(),
        inEffect,
        evidence: `${action.service}: ${running.evidence}${last ? `; ${describeDeploy(last)}` : '; not deployed yet'}`,
      };
    }
  }
}
