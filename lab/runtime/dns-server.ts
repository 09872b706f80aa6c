import dns2 from 'dns2';

const { Packet } = dns2;

/** How the lab's DNS server answers for one name: normally, or with one of the failures of `dnsFailure`. */
export type DnsMode = 'answer' | 'nxdomain' | 'servfail' | 'timeout';

export interface DnsRecord {
  address: string;
  ttlSeconds: number;
  mode: DnsMode;
}

export interface StartedDnsServer extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  /** `host:port`, the form services take in DNS_SERVER. */
  readonly address: string;
  setRecord(name: string, record: { address: string; ttlSeconds?: number }): void;
  setMode(name: string, mode: DnsMode): void;
  /** How the server answers for `name` right now (undefined: no record, so NXDOMAIN). */
  modeOf(name: string): DnsMode | undefined;
  /** Queries received per name: shows how often a caching resolver really asks. */
  queryCount(name: string): number;
  /** Queries for `name` answered in each mode so far: the evidence that a DNS fault was really served. */
  queriesByMode(name: string): Readonly<Partial<Record<DnsMode, number>>>;
  /**
   * Resolves, with what happened, when the socket closes or fails without `stop()` having been called:
   * the lab's dependency watchdog listens. Never resolves after a deliberate stop.
   */
  readonly lost: Promise<string>;
  stop(): Promise<void>;
}

export const DEFAULT_DNS_TTL_SECONDS = 5;

/**
 * A real DNS server on a loopback UDP port that answers for the lab's service names, so a scenario can
 * make `payment-service` fail the way `lookup payment-service: no such host` does.
 *
 * @example
 *   await using dnsServer = await startDnsServer();
 *   dnsServer.setRecord('payment-service', { address: '127.0.0.1', ttlSeconds: 5 });
 *   dnsServer.setMode('payment-service', 'nxdomain');
 */
export async function startDnsServer(host = '127.0.0.1', port = 0): Promise<StartedDnsServer> {
  const records = new Map<string, DnsRecord>();
  const queries = new Map<string, number>();
  const answeredByMode = new Map<string, Partial<Record<DnsMode, number>>>();
  const countAnswer = (name: string, mode: DnsMode): void => {
    const counts = answeredByMode.get(name) ?? {};
    counts[mode] = (counts[mode] ?? 0) + 1;
    answeredByMode.set(name, counts);
  };
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const question = request.questions[0];
      if (!question) {
        response.header.rcode = Packet.RCODE.FORMERR;
        send(response);
        return;
      }
      const name = question.name.toLowerCase().replace(/\.$/, '');
      queries.set(name, (queries.get(name) ?? 0) + 1);
      const record = records.get(name);
      if (record) countAnswer(name, record.mode);
      if (!record || record.mode === 'nxdomain') {
        response.header.rcode = Packet.RCODE.NXDOMAIN;
        send(response);
        return;
      }
      if (record.mode === 'timeout') return; // no answer at all: the resolver waits and gives up
      if (record.mode === 'servfail') {
        response.header.rcode = Packet.RCODE.SERVFAIL;
        send(response);
        return;
      }
      // An AAAA (or any other) query for a known name gets an empty NOERROR answer: IPv4 only.
      if (question.type === Packet.TYPE.A) {
        response.answers.push(
          Packet.createResourceFromQuestion(question, {
            type: Packet.TYPE.A,
            class: Packet.CLASS.IN,
            ttl: record.ttlSeconds,
            address: record.address,
          }),
        );
      }
      send(response);
    },
  });
  const boundPort = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      const addresses = server.addresses() as { udp?: { port: number } };
      resolve(addresses.udp?.port ?? 0);
    });
    void server.listen({ udp: { port, address: host } });
  });
  let stopped: Promise<void> | undefined;
  const lost = new Promise<string>((resolve) => {
    server.on('error', (error: Error) => {
      if (!stopped) resolve(`its UDP socket failed: ${error.message}`);
    });
    server.on('close', () => {
      if (!stopped) resolve(`its UDP socket on ${host}:${boundPort} closed`);
    });
  });
  const stop = (): Promise<void> => {
    stopped ??= Promise.resolve(server.close()).then(() => undefined);
    return stopped;
  };
  return {
    host,
    port: boundPort,
    address: `${host}:${boundPort}`,
    setRecord: (name, record) => {
      const previous = records.get(name);
      records.set(name, {
        address: record.address,
        ttlSeconds: record.ttlSeconds ?? DEFAULT_DNS_TTL_SECONDS,
        mode: previous?.mode ?? 'answer',
      });
    },
    setMode: (name, mode) => {
      const record = records.get(name);
      if (!record) throw new Error(`the lab's DNS server has no record for ${name}; call setRecord first`);
      record.mode = mode;
    },
    modeOf: (name) => records.get(name)?.mode,
    queryCount: (name) => queries.get(name) ?? 0,
    queriesByMode: (name) => ({ ...answeredByMode.get(name) }),
    lost,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
