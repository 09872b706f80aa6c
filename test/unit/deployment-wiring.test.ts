import type { Toxiproxy } from 'toxiproxy-node-client';
import { describe, expect, it } from 'vitest';
import { LabError } from '../../lab/errors.ts';
import { allDatabases, planWiring, serviceEnvironment } from '../../lab/runtime/deployment-wiring.ts';
import type { DnsControl } from '../../lab/runtime/dns-control.ts';
import {
  createServiceLogBook,
  startWiredDeployment,
  type DeploymentParts,
} from '../../lab/runtime/start-wired-deployment.ts';
import { LINK_NAMES, linksOf, type LinkName } from '../../lab/vocabulary/topology.ts';

const addresses = {
  databaseUrl: (link: LinkName, database: string) => `postgres://via-${link}/${database}`,
  linkPort: (link: LinkName) => 9000 + LINK_NAMES.indexOf(link),
  dnsServer: '10.0.0.1:5353',
};

describe('planWiring: monolith', () => {
  const wiring = planWiring('monolith');

  it('runs one service behind its edge link, with its database through monolith-db', () => {
    expect(wiring.services).toEqual([
      {
        name: 'monolith',
        edgeLinks: ['edge-monolith'],
        callerLinks: [],
        database: { link: 'monolith-db', name: 'monolith' },
        env: { DATABASE_URL: { kind: 'database-url', link: 'monolith-db', database: 'monolith' } },
      },
    ]);
    expect(wiring.databases).toEqual(['monolith']);
  });

  it('needs no DNS record; health and both audit tables are the monolith', () => {
    expect(wiring.dnsRecords).toEqual([]);
    expect(wiring.health).toEqual([
      { service: 'monolith', link: 'edge-monolith', name: 'monolith (via edge-monolith)' },
    ]);
    expect(wiring.audit).toEqual({ users: 'monolith', payments: 'monolith' });
  });
});

describe('planWiring: split', () => {
  const wiring = planWiring('split');
  const service = (name: string) => wiring.services.find((candidate) => candidate.name === name);

  it('starts payment-service before signup-service, which calls it', () => {
    expect(wiring.services.map((candidate) => candidate.name)).toEqual(['payment-service', 'signup-service']);
  });

  it('puts edge-payment and payment-api in front of payment-service, edge-signup in front of signup-service', () => {
    expect(service('payment-service')).toMatchObject({
      edgeLinks: ['edge-payment'],
      callerLinks: ['payment-api'],
      database: { link: 'payment-db', name: 'payment' },
    });
    expect(service('signup-service')).toMatchObject({
      edgeLinks: ['edge-signup'],
      callerLinks: [],
      database: { link: 'signup-db', name: 'signup' },
    });
  });

  it('tells signup-service where payment-service is through payment-api and the lab DNS server', () => {
    const signup = service('signup-service');
    if (!signup) throw new Error('no signup-service');
    expect(serviceEnvironment(signup, addresses)).toEqual({
      DATABASE_URL: 'postgres://via-signup-db/signup',
      PAYMENT_URL: `http://payment-service:${addresses.linkPort('payment-api')}`,
      DNS_SERVER: '10.0.0.1:5353',
    });
    const payment = service('payment-service');
    if (!payment) throw new Error('no payment-service');
    expect(serviceEnvironment(payment, addresses)).toEqual({
      DATABASE_URL: 'postgres://via-payment-db/payment',
    });
  });

  it('has the DNS server answer payment-service with where payment-api listens', () => {
    expect(wiring.dnsRecords).toEqual([{ name: 'payment-service', link: 'payment-api' }]);
  });

  it('checks health through each edge link and audits users in signup, payments in payment', () => {
    expect(wiring.health).toEqual([
      { service: 'payment-service', link: 'edge-payment', name: 'payment-service (via edge-payment)' },
      { service: 'signup-service', link: 'edge-signup', name: 'signup-service (via edge-signup)' },
    ]);
    expect(wiring.audit).toEqual({ users: 'signup', payments: 'payment' });
    expect(wiring.databases.toSorted()).toEqual(['payment', 'signup']);
  });
});

describe.each(['monolith', 'split'] as const)('planWiring(%s) and the topology', (deployment) => {
  it('places every link of the deployment exactly once: a database link or in front of a service', () => {
    const wiring = planWiring(deployment);
    const placed = wiring.services.flatMap((service) => [
      service.database.link,
      ...service.edgeLinks,
      ...service.callerLinks,
    ]);
    expect(placed.toSorted()).toEqual(linksOf(deployment).toSorted());
    expect(wiring.links).toEqual(linksOf(deployment));
  });
});

describe('allDatabases', () => {
  it("is every deployment's databases, once each", () => {
    expect(allDatabases().toSorted()).toEqual(['modular', 'monolith', 'payment', 'signup']);
  });
});

describe('startWiredDeployment', () => {
  function parts(start: () => Promise<void>, undone: string[]): DeploymentParts {
    const teardown = new AsyncDisposableStack();
    teardown.defer(() => {
      undone.push('link removed');
    });
    return {
      wiring: planWiring('split'),
      teardown,
      toxiproxy: {} as Toxiproxy,
      dnsServer: {} as DnsControl,
      startTimeoutMs: 1000,
      start,
      edgeUrl: () => 'http://127.0.0.1:1',
      metricsUrl: () => 'http://127.0.0.1:1/metrics',
      auditUrl: (database) => database,
      resources: () => 'all CPUs',
      kill: async () => async () => {},
      stall: async () => async () => {},
      redeploy: async () => ({ stoppedAfterMs: 0, drained: true, oldEnded: 'exited with code 0' }),
      serviceState: async () => ({ running: true, stalled: false, evidence: 'pid 1 running' }),
      log: () => undefined,
      leftovers: async () => [],
      logs: createServiceLogBook(['payment-service', 'signup-service']),
    };
  }

  it('undoes what a failed start created and reports STARTUP_TIMEOUT naming the deployment', async () => {
    const undone: string[] = [];
    const failed = startWiredDeployment(
      parts(async () => {
        throw new Error('spawn ENOENT');
      }, undone),
    );
    await expect(failed).rejects.toMatchObject({
      code: 'STARTUP_TIMEOUT',
      message: 'split did not start: Error: spawn ENOENT',
    });
    expect(undone).toEqual(['link removed']);
  });

  it("keeps a lab error's own code", async () => {
    const undone: string[] = [];
    const failed = startWiredDeployment(
      parts(async () => {
        throw new LabError('CONTAINER_START', 'the payment-service container did not start');
      }, undone),
    );
    await expect(failed).rejects.toMatchObject({ code: 'CONTAINER_START' });
    expect(undone).toEqual(['link removed']);
  });
});

describe('createServiceLogBook', () => {
  it('keeps lines in arrival order, at most the cap per service, and counts the rest', () => {
    const logs = createServiceLogBook(['payment-service', 'signup-service'], 2);
    for (const line of ['p1', 'p2', 'p3', 'p4']) logs.add('payment-service', line);
    logs.add('signup-service', 's1');
    expect(logs.lines()).toEqual([
      { service: 'payment-service', line: 'p1' },
      { service: 'payment-service', line: 'p2' },
      { service: 'signup-service', line: 's1' },
    ]);
    expect(logs.dropped()).toEqual({ 'payment-service': 2, 'signup-service': 0 });
  });

  it('hands out a copy: what the caller does with it does not change the book', () => {
    const logs = createServiceLogBook(['monolith']);
    logs.add('monolith', '{"event":"stopping"}');
    logs.lines().pop();
    expect(logs.lines()).toHaveLength(1);
  });
});
