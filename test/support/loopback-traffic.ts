import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { LabError } from '../../lab/errors.ts';

// Traffic accounting for runs against the "remote" engine that .ci/remote-engine starts in its own
// network namespace: packet counters in the kernel that prove where the run's traffic went. nft is
// not on Debian's default install; iptables (nf_tables backend on Debian 12) is, so the counters are
// iptables rules without a target (they count and let the packet on) in chains of the `mangle` table,
// which Docker never touches (it owns `filter` and `nat`). Needs root, like the engine itself.
//
// What each counter proves (lo is counted where a packet leaves, so each packet counts once):
// - loopbackToEngine / loopbackFromEngine: packets on the lab machine's lo with the engine's address.
//   They stay 0 unless that address is local to this machine, i.e. the "remote" engine is not remote.
// - loopbackToPublishedPorts: TCP on lo (IPv4 and IPv6) to a port the remote engine publishes. Non-zero
//   means something on the lab machine dialled localhost:<port> as if the engine were local (through a
//   tunnel or a local proxy it may even have worked).
// - loopbackAll: everything on lo, for context only: the lab's own processes (vitest workers, the
//   trace collector) use it legitimately.
// - linkOut / linkIn: bytes the lab machine sent to and received from the engine over the veth link,
//   the only way to reach it. Non-zero proves the run's traffic went there at all.
// - linkForwarded: packets this machine routed onto the link for someone else (a container of the
//   main engine, say): traffic to the remote engine that did not come from the lab's own process.

const execFileAsync = promisify(execFile);

export const ENGINE_ADDRESS = '10.231.0.2';
export const LINK_INTERFACE = 'slr-host';

const TABLE = 'mangle';
const CHAIN_OUT = 'SPLITLAB_TRAFFIC_OUT';
const CHAIN_IN = 'SPLITLAB_TRAFFIC_IN';
const CHAIN_FORWARD = 'SPLITLAB_TRAFFIC_FWD';
/** Which built-in chain jumps to which of ours. */
const JUMPS = [
  ['OUTPUT', CHAIN_OUT],
  ['INPUT', CHAIN_IN],
  ['FORWARD', CHAIN_FORWARD],
] as const;
const OUR_CHAINS: readonly string[] = JUMPS.map(([, chain]) => chain);
const PORT_COUNTER_PREFIX = 'lo-port-';

export type IpFamily = 'ipv4' | 'ipv6';

export interface PacketCount {
  readonly packets: number;
  readonly bytes: number;
}

export interface TrafficCounters {
  readonly loopbackToEngine: PacketCount;
  readonly loopbackFromEngine: PacketCount;
  readonly loopbackToPublishedPorts: PacketCount;
  readonly loopbackAll: PacketCount;
  readonly linkOut: PacketCount;
  readonly linkIn: PacketCount;
  readonly linkForwarded: PacketCount;
}

export interface TrafficCountingOptions {
  readonly engineAddress?: string;
  readonly linkInterface?: string;
  /** Ports the remote engine publishes, if known at the start; more can be added with countLoopbackPorts. */
  readonly publishedPorts?: readonly number[];
}

const ZERO: PacketCount = { packets: 0, bytes: 0 };

function countingRule(chain: string, match: string, counter: string): string {
  return `-A ${chain} ${match} -m comment --comment ${counter}`;
}

function portRules(ports: readonly number[]): string[] {
  for (const port of ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65_535)
      throw new LabError('USAGE', `published port ${port} is not a TCP port; pass integers from 1 to 65535`);
  }
  return [...new Set(ports)].map((port) =>
    countingRule(CHAIN_OUT, `-o lo -p tcp -m tcp --dport ${port}`, `${PORT_COUNTER_PREFIX}${port}`),
  );
}

/**
 * The iptables-restore input (used with --noflush, so nothing else in the table changes) that creates
 * our chains with their counting rules and makes the built-in chains jump to them first. The engine's
 * address is IPv4, so the address and link counters exist only for IPv4; lo is counted in both.
 */
export function countingRulesScript(family: IpFamily, options: TrafficCountingOptions = {}): string {
  const engine = options.engineAddress ?? ENGINE_ADDRESS;
  const link = options.linkInterface ?? LINK_INTERFACE;
  const rules =
    family === 'ipv4'
      ? [
          countingRule(CHAIN_OUT, `-d ${engine}/32 -o lo`, 'lo-to-engine'),
          countingRule(CHAIN_OUT, `-s ${engine}/32 -o lo`, 'lo-from-engine'),
          countingRule(CHAIN_OUT, '-o lo', 'lo-all'),
          countingRule(CHAIN_OUT, `-o ${link}`, 'link-out'),
          countingRule(CHAIN_IN, `-i ${link}`, 'link-in'),
          countingRule(CHAIN_FORWARD, `-o ${link}`, 'link-forwarded'),
        ]
      : [countingRule(CHAIN_OUT, '-o lo', 'lo-all')];
  return [
    `*${TABLE}`,
    ...OUR_CHAINS.map((chain) => `:${chain} - [0:0]`),
    ...rules,
    ...portRules(options.publishedPorts ?? []),
    ...JUMPS.map(([builtIn, chain]) => `-I ${builtIn} 1 -j ${chain}`),
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * Each counter of our chains in `iptables-save -c` output, by its comment, summed when several rules
 * share one. Lines look like `[12:3456] -A SPLITLAB_TRAFFIC_OUT -o lo -m comment --comment lo-all`.
 */
export function parseCounters(iptablesSave: string): Map<string, PacketCount> {
  const counters = new Map<string, PacketCount>();
  for (const line of iptablesSave.split('\n')) {
    const match = /^\[(\d+):(\d+)\] -A (\S+) .*--comment "?([\w-]+)"?\s*$/.exec(line.trim());
    if (!match) continue;
    const [, packets, bytes, chain, name] = match as unknown as [string, string, string, string, string];
    if (!OUR_CHAINS.includes(chain)) continue;
    const sum = counters.get(name) ?? ZERO;
    counters.set(name, { packets: sum.packets + Number(packets), bytes: sum.bytes + Number(bytes) });
  }
  return counters;
}

function add(a: PacketCount, b: PacketCount): PacketCount {
  return { packets: a.packets + b.packets, bytes: a.bytes + b.bytes };
}

/** The named counters of both families, merged into what a test asserts on. */
export function summarizeCounters(...families: ReadonlyMap<string, PacketCount>[]): TrafficCounters {
  const total = (name: string) =>
    families.reduce((sum, counters) => add(sum, counters.get(name) ?? ZERO), ZERO);
  const ports = families.reduce(
    (sum, counters) =>
      [...counters]
        .filter(([name]) => name.startsWith(PORT_COUNTER_PREFIX))
        .reduce((s, [, c]) => add(s, c), sum),
    ZERO,
  );
  return {
    loopbackToEngine: total('lo-to-engine'),
    loopbackFromEngine: total('lo-from-engine'),
    loopbackToPublishedPorts: ports,
    loopbackAll: total('lo-all'),
    linkOut: total('link-out'),
    linkIn: total('link-in'),
    linkForwarded: total('link-forwarded'),
  };
}

/**
 * Why the counters say the run did not stay off the lab's loopback (empty when it did), each reason
 * naming the counter. `expectLinkTraffic` also asks that something crossed the link at all, so that a
 * run that reached nothing cannot pass.
 */
export function loopbackProblems(counters: TrafficCounters, options = { expectLinkTraffic: true }): string[] {
  const problems: string[] = [];
  if (counters.loopbackToEngine.packets > 0 || counters.loopbackFromEngine.packets > 0)
    problems.push(
      `${counters.loopbackToEngine.packets + counters.loopbackFromEngine.packets} packets with the engine's address crossed lo: the engine's address is local to this machine`,
    );
  if (counters.loopbackToPublishedPorts.packets > 0)
    problems.push(
      `${counters.loopbackToPublishedPorts.packets} packets went to localhost at a port the remote engine publishes: something assumed the engine is local`,
    );
  if (options.expectLinkTraffic && (counters.linkOut.packets === 0 || counters.linkIn.packets === 0))
    problems.push(
      `no traffic crossed the link to the engine (out ${counters.linkOut.packets}, in ${counters.linkIn.packets} packets): the run did not reach it`,
    );
  return problems;
}

/** The interface `ip route get <address>` would send through, from its output. */
export function parseRouteDevice(ipRouteGet: string): string | undefined {
  return /\bdev (\S+)/.exec(ipRouteGet)?.[1];
}

async function run(tool: string, args: readonly string[], input?: string): Promise<string> {
  try {
    const child = execFileAsync(tool, args, { encoding: 'utf8' });
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT')
      throw new LabError('TOOL_MISSING', `${tool} not found; install iptables (apt-get install iptables)`, {
        cause: error,
      });
    throw new LabError(
      'DEPENDENCY_FAILED',
      `${tool} ${args.join(' ')} failed: ${failure.stderr?.trim() || String(error)}; traffic counting needs root (run the tests as root, as CI does)`,
      { cause: error },
    );
  }
}

const TOOLS: Record<IpFamily, { tables: string; restore: string; save: string }> = {
  ipv4: { tables: 'iptables', restore: 'iptables-restore', save: 'iptables-save' },
  ipv6: { tables: 'ip6tables', restore: 'ip6tables-restore', save: 'ip6tables-save' },
};
const FAMILIES: readonly IpFamily[] = ['ipv4', 'ipv6'];

/**
 * Throws unless the engine's address is routed over the link. Without the link, 10.231.0.2 leaves by
 * the default route, where a network's HTTP proxy may answer every request (Docker's client then
 * reports an empty but "successful" engine) and no counter below would move.
 */
export async function assertEngineRoutedOverLink(options: TrafficCountingOptions = {}): Promise<void> {
  const engine = options.engineAddress ?? ENGINE_ADDRESS;
  const link = options.linkInterface ?? LINK_INTERFACE;
  const device = parseRouteDevice(await run('ip', ['route', 'get', engine]));
  if (device !== link)
    throw new LabError(
      'DEPENDENCY_FAILED',
      `${engine} is routed via ${device ?? 'nothing'}, not the link ${link}: the remote engine is not up; start it with .ci/remote-engine up`,
    );
}

/** Installs the counters from zero (removing any earlier ones first). */
export async function startTrafficCounting(options: TrafficCountingOptions = {}): Promise<void> {
  await stopTrafficCounting();
  for (const family of FAMILIES)
    await run(TOOLS[family].restore, ['-w', '5', '--noflush'], countingRulesScript(family, options));
}

/** Adds loopback counters for ports the remote engine published after counting started. */
export async function countLoopbackPorts(ports: readonly number[]): Promise<void> {
  if (ports.length === 0) return;
  const script = [`*${TABLE}`, ...portRules(ports), 'COMMIT', ''].join('\n');
  for (const family of FAMILIES) await run(TOOLS[family].restore, ['-w', '5', '--noflush'], script);
}

export async function readTrafficCounters(): Promise<TrafficCounters> {
  const families = [];
  for (const family of FAMILIES)
    families.push(parseCounters(await run(TOOLS[family].save, ['-c', '-t', TABLE])));
  return summarizeCounters(...families);
}

/** Removes the jumps and our chains; safe when nothing is installed. */
export async function stopTrafficCounting(): Promise<void> {
  for (const family of FAMILIES) {
    const tool = TOOLS[family].tables;
    const installed = await run(TOOLS[family].save, ['-t', TABLE]);
    for (const [builtIn, chain] of JUMPS) {
      const jump = `-A ${builtIn} -j ${chain}`;
      const jumps = installed.split('\n').filter((line) => line.trim() === jump).length;
      for (let i = 0; i < jumps; i++) await run(tool, ['-w', '5', '-t', TABLE, '-D', builtIn, '-j', chain]);
      if (installed.includes(`:${chain} `)) {
        await run(tool, ['-w', '5', '-t', TABLE, '-F', chain]);
        await run(tool, ['-w', '5', '-t', TABLE, '-X', chain]);
      }
    }
  }
}
