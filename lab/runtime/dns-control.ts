import { z } from 'zod';
import type { DnsMode, StartedDnsServer } from './dns-server.ts';

/**
 * The lab's DNS server as the runtimes and faults drive it, wherever it runs: in the lab's process
 * (local runtime) or in a container of the lab's network (containers runtime), controlled over HTTP.
 */
export interface DnsControl {
  /** `host:port` as the services reach it: what they take in DNS_SERVER. */
  readonly address: string;
  /** Where it runs, in words, for the report's runtime details. */
  readonly where: string;
  setRecord(name: string, record: { address: string; ttlSeconds?: number }): Promise<void>;
  setMode(name: string, mode: DnsMode): Promise<void>;
  /** How it answers for `name` right now (undefined: no record, so NXDOMAIN). */
  modeOf(name: string): Promise<DnsMode | undefined>;
  /** Queries received for `name` so far: shows how often a caching resolver really asks. */
  queryCount(name: string): Promise<number>;
  /** Queries for `name` answered in each mode so far: the evidence that a DNS fault was really served. */
  queriesByMode(name: string): Promise<Partial<Record<DnsMode, number>>>;
}

/** What the control API answers for one name (GET /records/<name>). */
export const dnsNameStateSchema = z.object({
  mode: z.enum(['answer', 'nxdomain', 'servfail', 'timeout']).optional(),
  queries: z.number().int().nonnegative(),
  queriesByMode: z.partialRecord(z.enum(['answer', 'nxdomain', 'servfail', 'timeout']), z.number()),
});
export type DnsNameState = z.infer<typeof dnsNameStateSchema>;

export const dnsRecordBodySchema = z.object({
  address: z.ipv4(),
  ttlSeconds: z.number().int().nonnegative().optional(),
});
export const dnsModeBodySchema = z.object({ mode: z.enum(['answer', 'nxdomain', 'servfail', 'timeout']) });

/** The in-process server of the local runtime, behind the same interface. */
export function controlInProcess(server: StartedDnsServer, where: string): DnsControl {
  return {
    address: server.address,
    where,
    setRecord: async (name, record) => server.setRecord(name, record),
    setMode: async (name, mode) => server.setMode(name, mode),
    modeOf: async (name) => server.modeOf(name),
    queryCount: async (name) => server.queryCount(name),
    queriesByMode: async (name) => server.queriesByMode(name),
  };
}

/** How long one control call may take: the DNS container answers in milliseconds when it is alive. */
const CONTROL_TIMEOUT_MS = 5_000;

/**
 * A DNS server in a container (lab/agent/dns-main.ts), driven through its HTTP control API.
 *
 * @example
 *   const dns = controlOverHttp({ address: '172.18.0.5:5353', controlUrl: 'http://10.231.0.2:32768', where: '...' });
 *   await dns.setMode('payment-service', 'nxdomain');
 */
export function controlOverHttp(options: { address: string; controlUrl: string; where: string }): DnsControl {
  const call = async (method: 'GET' | 'PUT', path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${options.controlUrl}${path}`, {
      method,
      signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`the DNS container answered ${method} ${path} with ${response.status}: ${text}`);
    }
    return text === '' ? undefined : JSON.parse(text);
  };
  const state = async (name: string): Promise<DnsNameState> =>
    dnsNameStateSchema.parse(await call('GET', `/records/${encodeURIComponent(name)}`));
  return {
    address: options.address,
    where: options.where,
    setRecord: async (name, record) => {
      await call('PUT', `/records/${encodeURIComponent(name)}`, record);
    },
    setMode: async (name, mode) => {
      await call('PUT', `/records/${encodeURIComponent(name)}/mode`, { mode });
    },
    modeOf: async (name) => (await state(name)).mode,
    queryCount: async (name) => (await state(name)).queries,
    queriesByMode: async (name) => (await state(name)).queriesByMode,
  };
}
