/**
 * The lab's DNS server as a container in the lab's network: the services resolve `payment-service`
 * through it, and the lab changes its answers (nxdomain, servfail, timeout, TTL) over a small HTTP API.
 * Running it here rather than on the lab's machine means the topology needs nothing outside the engine,
 * which may be on another machine.
 *
 *   PUT /records/<name>       {"address": "172.18.0.3", "ttlSeconds": 5}
 *   PUT /records/<name>/mode  {"mode": "nxdomain"}
 *   GET /records/<name>       {"mode": "nxdomain", "queries": 12, "queriesByMode": {"answer": 10, "nxdomain": 2}}
 *   GET /healthz
 */
import http from 'node:http';
import { dnsModeBodySchema, dnsRecordBodySchema, type DnsNameState } from '../runtime/dns-control.ts';
import { startDnsServer } from '../runtime/dns-server.ts';
import { readJsonBody, replyJson, serveUntilSignalled } from './agent-http.ts';
import { DNS_CONTROL_PORT, DNS_PORT } from './agent-ports.ts';

const dns = await startDnsServer('0.0.0.0', Number(process.env.DNS_PORT ?? DNS_PORT));

const RECORD_PATH = /^\/records\/([^/]+)(\/mode)?$/;

const server = http.createServer((request, response) => {
  void (async () => {
    if (request.url === '/healthz') return replyJson(response, 200, { ok: true, dns: dns.address });
    const match = RECORD_PATH.exec(request.url ?? '');
    if (!match?.[1]) return replyJson(response, 404, { error: `no such path: ${request.url}` });
    const name = decodeURIComponent(match[1]).toLowerCase();
    if (request.method === 'GET' && !match[2]) {
      const state: DnsNameState = {
        ...(dns.modeOf(name) ? { mode: dns.modeOf(name) } : {}),
        queries: dns.queryCount(name),
        queriesByMode: dns.queriesByMode(name),
      };
      return replyJson(response, 200, state);
    }
    if (request.method !== 'PUT') return replyJson(response, 405, { error: 'use GET or PUT' });
    const body = await readJsonBody(request);
    if (match[2]) {
      const parsed = dnsModeBodySchema.safeParse(body);
      if (!parsed.success) return replyJson(response, 400, { error: parsed.error.message });
      if (!dns.modeOf(name))
        return replyJson(response, 409, { error: `no record for ${name}; PUT it first` });
      dns.setMode(name, parsed.data.mode);
    } else {
      const parsed = dnsRecordBodySchema.safeParse(body);
      if (!parsed.success) return replyJson(response, 400, { error: parsed.error.message });
      dns.setRecord(name, parsed.data);
    }
    return replyJson(response, 204);
  })().catch((error: unknown) => replyJson(response, 400, { error: String(error) }));
});

await serveUntilSignalled(server, Number(process.env.CONTROL_PORT ?? DNS_CONTROL_PORT), () => dns.stop());
process.stderr.write(`dns server on udp ${dns.address}, control on tcp ${DNS_CONTROL_PORT}\n`);
