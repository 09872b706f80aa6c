import type { Toxiproxy } from 'toxiproxy-node-client';
import type { StartedDnsServer } from './dns-server.ts';
import { LabError } from '../errors.ts';
import type { ActionObservation, RuntimeAction, Undo } from './runtime.ts';
import type { DeploymentName, LinkName } from '../vocabulary/topology.ts';
import { applyLinkFault, judgeLinkFault, readProxyState } from './toxiproxy-links.ts';

/** What differs between runtimes when a fault is applied: only how a service dies and comes back. */
export interface RuntimeActionTarget {
  deployment: DeploymentName;
  links: ReadonlySet<LinkName>;
  toxiproxy: Toxiproxy;
  dnsServer: StartedDnsServer;
  services: ReadonlySet<string>;
  /** Kills the service (SIGKILL) and returns how to start it again and wait until it is healthy. */
  kill(service: string): Promise<() => Promise<void>>;
  /** The service's process or container as the runtime sees it: running or not, and what was read. */
  serviceState(service: string): Promise<ServiceState>;
}

export interface ServiceState {
  running: boolean;
  /** What was read: `pid 1234 running` or `container exited, ExitCode 137`. */
  evidence: string;
}

/**
 * Applies one resolved fault action on either runtime and returns its undo, which runs its work at
 * most once however often it is called.
 */
export async function applyRuntimeAction(target: RuntimeActionTarget, action: RuntimeAction): Promise<Undo> {
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
      target.dnsServer.setMode(action.name, action.mode);
      return async () => target.dnsServer.setMode(action.name, 'answer');
    case 'crash': {
      if (!target.services.has(action.service))
        throw new LabError('INVALID_SCENARIO', `no service ${action.service} in ${target.deployment}`);
      const restart = await target.kill(action.service);
      let restarted: Promise<void> | undefined;
      return () => {
        restarted ??= restart();
        return restarted;
      };
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
      const mode = target.dnsServer.modeOf(action.name);
      const answered = Object.entries(target.dnsServer.queriesByMode(action.name))
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
  }
}
