import { describe, expect, it } from 'vitest';
import type { LabState } from '../../lab/interactive/control-files.ts';
import type { LabStatus } from '../../lab/interactive/control-protocol.ts';
import {
  formatHealed,
  formatStatus,
  formatUpBanner,
  READY_PREFIX,
  STEADY_LOAD_RATES,
} from '../../lab/interactive/lab-text.ts';
import { partition } from '../../lab/vocabulary/faults.ts';

const state: LabState = {
  pid: 4242,
  startedAt: '2025-01-31T12:00:00.123Z',
  status: 'ready',
  deployment: 'split',
  runtime: 'local',
  load: true,
  socket: '/p/.lab/interactive/control.sock',
  urls: {
    routes: {
      signup: 'http://127.0.0.1:1001/signup',
      pay: 'http://127.0.0.1:1002/charge',
      checkout: 'http://127.0.0.1:1001/checkout',
    },
    metrics: { 'signup-service': 'http://127.0.0.1:2001/metrics' },
    toxiproxyApi: 'http://127.0.0.1:8474',
    dns: 'lab DNS server on udp 127.0.0.1:5353',
  },
};

describe('what npm run lab prints', () => {
  it('ends the banner of up with the ready line, after every address', () => {
    const banner = formatUpBanner(state, STEADY_LOAD_RATES).split('\n');
    expect(banner[0]).toBe('splitlab lab: split on the local runtime (pid 4242)');
    expect(banner).toContain(
      '             pay       POST http://127.0.0.1:1002/charge  (payment-service via edge-payment)',
    );
    expect(banner).toContain(
      '  toxiproxy  http://127.0.0.1:8474 (its HTTP API; curl http://127.0.0.1:8474/proxies)',
    );
    expect(banner).toContain('  live view  off (start with --live to follow the lab in a browser)');
    expect(banner).toContain('  load       signup 4/s, pay 20/s, checkout 8/s');
    expect(banner.at(-1)).toMatch(
      new RegExp(`^${READY_PREFIX} break it with npm run lab -- fault partition payment-api`),
    );
  });

  it('says where the runtime does not tell the Toxiproxy API', () => {
    const urls = { ...state.urls, toxiproxyApi: undefined } as LabState['urls'];
    expect(formatUpBanner({ ...state, urls }, STEADY_LOAD_RATES)).toContain(
      '  toxiproxy  API address not known on this runtime',
    );
  });

  it('lists the faults in effect and the last second of load in status', () => {
    const status: LabStatus = {
      state,
      uptimeS: 135,
      faults: [
        {
          id: 'hand-1',
          fault: partition('payment-api'),
          target: 'payment-api',
          description: 'payment-api partitioned (both): data dropped, connections hang',
          appliedAt: '2025-01-31T12:01:00.456Z',
          atS: 55.2,
          evidence: [],
        },
      ],
      lastSecond: {
        type: 'second',
        label: 'split',
        t: 80,
        routes: [
          { route: 'pay', ok: 20, failures: {}, latencyMs: { p50: 4.2, p90: 6, p99: 9 } },
          {
            route: 'checkout',
            ok: 1,
            failures: { deadline: 7 },
            latencyMs: { p50: 5003.4, p90: 5010, p99: 5020 },
          },
        ],
        services: [],
      },
    };
    const text = formatStatus(status, STEADY_LOAD_RATES);
    expect(text).toContain(
      'split on the local runtime (pid 4242), ready, up for 2m15s since 2025-01-31T12:00:00Z',
    );
    expect(text).toContain(
      'faults in effect (1, the newest last):\n  hand-1  partition payment-api  since 2025-01-31T12:01:00Z (t=55.2 s): payment-api partitioned',
    );
    expect(text).toContain(
      'last second (t=80 s): pay 20 ok (p50 4 ms); checkout 1 ok, 7 deadline (p50 5003 ms)',
    );
    expect(formatStatus({ ...status, faults: [], lastSecond: null }, STEADY_LOAD_RATES)).toContain(
      'faults: none in effect',
    );
  });

  it('says which heals were observed gone and which were not', () => {
    expect(formatHealed({ healed: [] })).toBe('no fault was in effect; nothing to heal');
    expect(
      formatHealed({
        healed: [
          {
            id: 'hand-2',
            description: 'd2',
            observed: false,
            evidence: ['proxy payment-db disabled: still disabled'],
          },
          {
            id: 'hand-1',
            description: 'd1',
            observed: true,
            evidence: ['timeout toxics on payment-api: no toxics'],
          },
        ],
      }),
    ).toBe(
      [
        'hand-2 undone but NOT observed gone: d2',
        '  last read: proxy payment-db disabled: still disabled',
        'hand-1 healed: d1',
        '  observed gone: timeout toxics on payment-api: no toxics',
      ].join('\n'),
    );
  });
});
