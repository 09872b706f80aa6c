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

/** What Toxiproxy's API says about one proxy right now (GET /proxies/<name>). */
export interface ProxyState {
  name: string;
  enabled: boolean;
  toxics: {
    name: string;
    type: string;
    stream: string;
    toxicity: number;
    attributes: Record<string, unknown>;
  }[];
}

/**
 * Reads one proxy's state and toxics straight from Toxiproxy's API (the client's Proxy drops the
 * toxics). Undefined when there is no such proxy; a TOXIPROXY_API error when the API does not answer.
 */
export async function readProxyState(client: Toxiproxy, name: string): Promise<ProxyState | undefined> {
  const url = `${client.host}/proxies/${encodeURIComponent(name)}`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`status ${response.status}`);
    return (await response.json()) as ProxyState;
  } catch (error) {
    throw new LabError('TOXIPROXY_API', `could not read Toxiproxy proxy ${name} (${url}): ${String(error)}`, {
      cause: error,
    });
  }
}

/**
 * Whether the proxy's state is what `fault` asks for, and what was read, in words: an outage needs the
 * proxy disabled; any other link fault needs a toxic of each planned type on each planned stream, with
 * the planned attributes.
 *
 * @example
 *   judgeLinkFault(partition('payment-api'), state)
 *   // { inEffect: true, evidence: 'payment-api: toxics timeout/upstream, timeout/downstream; enabled' }
 */
export function judgeLinkFault(
  fault: LinkFault,
  state: ProxyState | undefined,
): { inEffect: boolean; evidence: string } {
  if (!state) return { inEffect: false, evidence: `${fault.link}: no such proxy` };
  const toxics = state.toxics.map((toxic) => `${toxic.type}/${toxic.stream}`);
  const seen = `${toxics.length > 0 ? `toxics ${toxics.join(', ')}` : 'no toxics'}; ${state.enabled ? 'enabled' : 'disabled'}`;
  const plan = planToxiproxy(fault);
  if (plan.action === 'disable') return { inEffect: !state.enabled, evidence: `${state.name}: ${seen}` };
  const missing = plan.toxics.filter(
    (expected) =>
      !state.toxics.some(
        (toxic) =>
          toxic.type === expected.type &&
          toxic.stream === expected.stream &&
          toxic.toxicity > 0 &&
          Object.entries(expected.attributes).every(([key, value]) => toxic.attributes[key] === value),
      ),
  );
  if (missing.length === 0) return { inEffect: true, evidence: `${state.name}: ${seen}` };
  const wanted = missing.map((toxic) => `${toxic.type}/${toxic.stream} ${JSON.stringify(toxic.attributes)}`);
  return { inEffect: false, evidence: `${state.name}: ${seen}; missing ${wanted.join(', ')}` };
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
  // An undo that cannot reach Toxiproxy says so in one line: when toxiproxy-server is gone, its proxies
  // and toxics went with it, and the lab's dependency watchdog has already said that it died.
  const undoCalmly = (work: () => Promise<unknown>): Promise<void> => {
    undone ??= work().then(
      () => undefined,
      (error: unknown) => {
        throw new LabError(
          'TOXIPROXY_API',
          `could not undo "${describeFault(fault)}": Toxiproxy at ${client.host} did not answer (${causeOf(error)}); if it has stopped, its proxies and toxics went with it`,
          { cause: error },
        );
      },
    );
    return undone;
  };
  if (plan.action === 'disable') {
    await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    return () =>
      undoCalmly(async () => {
        const current = await client.get(proxyName);
        await current.update({ enabled: true, listen: current.listen, upstream: current.upstream });
      });
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
  return () =>
    undoCalmly(async () => {
      for (const toxic of added) await toxic.remove();
    });
}

/** `fetch failed (ECONNREFUSED)`: an error and the code of its cause, for one-line messages. */
function causeOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { cause?: { code?: string } }).cause?.code;
  return code ? `${message} (${code})` : message;
}
