import type { Toxiproxy } from 'toxiproxy-node-client';
import type { StartedDnsServer } from './dns-server.ts';
import { LabError } from '../errors.ts';
import type { RuntimeAction, Undo } from './runtime.ts';
import type { DeploymentName, LinkName } from '../vocabulary/topology.ts';
import { applyLinkFault } from './toxiproxy-links.ts';

/** What differs between runtimes when a fault is applied: only how a service dies and comes back. */
export interface RuntimeActionTarget {
  deployment: DeploymentName;
  links: ReadonlySet<LinkName>;
  toxiproxy: Toxiproxy;
  dnsServer: StartedDnsServer;
  services: ReadonlySet<string>;
  /** Kills the service (SIGKILL) and returns how to start it again and wait until it is healthy. */
  kill(service: string): Promise<() => Promise<void>>;
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
