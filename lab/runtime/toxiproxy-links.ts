import type { Toxiproxy, ToxicType } from 'toxiproxy-node-client';
import { LabError } from '../errors.ts';
import { describeFault, planToxiproxy, type LinkFault } from '../vocabulary/faults.ts';
import type { Undo } from './runtime.ts';

export interface CreatedLink {
  name: string;
  /** `host:port` the proxy really listens on (Toxiproxy picks the port when asked for :0). */
  listen: string;
  port: number;
  upstream: string;
}

/** Creates (or replaces) one named proxy. `listen` may use port 0; the bound address is returned. */
export async function createLink(
  client: Toxiproxy,
  name: string,
  listen: string,
  upstream: string,
): Promise<CreatedLink> {
  try {
    const existing = await client.get(name).catch(() => undefined);
    if (existing) await existing.remove();
    const proxy = await client.createProxy({ name, listen, upstream, enabled: true });
    const port = Number(proxy.listen.split(':').pop());
    return { name, listen: proxy.listen, port, upstream };
  } catch (error) {
    throw new LabError(
      'TOXIPROXY_API',
      `could not create Toxiproxy proxy ${name} (${listen} -> ${upstream}): ${String(error)}`,
      {
        cause: error,
      },
    );
  }
}

export async function removeLink(client: Toxiproxy, name: string): Promise<void> {
  const proxy = await client.get(name).catch(() => undefined);
  await proxy?.remove().catch(() => undefined);
}

let toxicSequence = 0;

/**
 * Applies a fault to the proxy that carries `fault.link` and returns its undo.
 *
 * @example
 *   const undo = await applyLinkFault(client, partition('payment-api'));
 *   await undo(); // heal
 */
export async function applyLinkFault(
  client: Toxiproxy,
  fault: LinkFault,
  proxyName: string = fault.link,
): Promise<Undo> {
  const plan = planToxiproxy(fault);
  const proxy = await client.get(proxyName).catch((error: unknown) => {
    throw new LabError(
      'TOXIPROXY_API',
      `no Toxiproxy proxy named ${proxyName} for fault "${describeFault(fault)}"`,
      {
        cause: error,
      },
    );
  });
  let undone: Promise<void> | undefined;
  if (plan.action === 'disable') {
    await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    return () => {
      undone ??= client
        .get(proxyName)
        .then((current) =>
          current.update({ enabled: true, listen: current.listen, upstream: current.upstream }),
        )
        .then(() => undefined);
      return undone;
    };
  }
  const added: { remove(): Promise<void> }[] = [];
  for (const toxic of plan.toxics) {
    const name = `${fault.kind}-${toxic.stream}-${++toxicSequence}`;
    added.push(
      await proxy.addToxic({
        name,
        type: toxic.type as ToxicType,
        stream: toxic.stream,
        toxicity: 1,
        attributes: toxic.attributes,
      }),
    );
  }
  return () => {
    undone ??= (async () => {
      for (const toxic of added) await toxic.remove();
    })();
    return undone;
  };
}
