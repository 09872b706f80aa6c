import { describe, expect, it } from 'vitest';
import { isLabError } from '../../lab/errors.ts';
import {
  buildFault,
  checkFaultFits,
  describeHandFault,
  FAULT_SPECS,
  faultMatches,
  parseFaultKind,
  targetsIn,
} from '../../lab/interactive/hand-fault.ts';
import { parseLabArgs, USAGE } from '../../lab/interactive/lab-args.ts';
import { FAULT_KINDS, faultTargetName, partition, resolveFault } from '../../lab/vocabulary/faults.ts';

/** The message of the USAGE error `work` throws. */
function usageMessage(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    if (isLabError(error) && error.code === 'USAGE') return error.message;
    throw error;
  }
  throw new Error('did not throw');
}

describe('parseLabArgs: up, status, heal', () => {
  it('reads up with its defaults: split, local, no load, no live view', () => {
    expect(parseLabArgs(['up'])).toEqual({
      command: 'up',
      deployment: 'split',
      runtime: 'local',
      load: false,
    });
  });

  it('reads every flag of up; --live-port alone implies --live', () => {
    expect(
      parseLabArgs([
        'up',
        '--deployment',
        'monolith',
        '--runtime',
        'containers',
        '--load',
        '--live-port',
        '8123',
      ]),
    ).toEqual({
      command: 'up',
      deployment: 'monolith',
      runtime: 'containers',
      load: true,
      live: { port: 8123, host: '127.0.0.1' },
    });
    expect(parseLabArgs(['up', '--live'])).toMatchObject({ live: { port: 0, host: '127.0.0.1' } });
    expect(parseLabArgs(['up', '--live-host', '0.0.0.0'])).toMatchObject({
      live: { port: 0, host: '0.0.0.0' },
    });
  });

  it.each([
    [
      ['up', '--deployment', 'microservices'],
      '--deployment microservices is not known; use monolith, modular or split',
    ],
    [['up', '--runtime', 'kubernetes'], '--runtime kubernetes is not known'],
    [['up', '--live-port', '70000'], '--live-port 70000: must be a port from 0 to 65535'],
    [['up', '--live-port', 'x'], '--live-port x: must be a port'],
    [['up', '--turbo'], 'unknown option --turbo'],
    [['up', 'now'], 'unexpected argument now after up'],
    [['status', 'please'], 'unexpected argument please after status'],
    [[], 'which command? up, status, fault, heal'],
    [['down'], 'unknown command down; commands: up, status, fault, heal'],
    [['--load'], '--load before the command'],
    [['heal', 'partition'], 'heal takes nothing (every fault) or <kind> <target>'],
    [['heal', 'partishun', 'payment-api'], '"partishun" is not a fault kind'],
  ])('refuses %j: %s', (argv, message) => {
    expect(usageMessage(() => parseLabArgs(argv))).toContain(message);
  });

  it('answers --help first, whatever else is on the line', () => {
    expect(parseLabArgs(['--help'])).toEqual({ command: 'help' });
    expect(parseLabArgs(['fault', 'bogus', '-h'])).toEqual({ command: 'help' });
  });

  it('reads status and heal', () => {
    expect(parseLabArgs(['status'])).toEqual({ command: 'status', json: false });
    expect(parseLabArgs(['status', '--json'])).toEqual({ command: 'status', json: true });
    expect(parseLabArgs(['heal'])).toEqual({ command: 'heal' });
    expect(parseLabArgs(['heal', 'partition', 'payment-api'])).toEqual({
      command: 'heal',
      which: { kind: 'partition', target: 'payment-api' },
    });
  });

  it('lists every fault kind and every option in the help', () => {
    for (const kind of FAULT_KINDS) expect(USAGE).toContain(`  ${kind} <`);
    for (const option of [
      '--jitter-ms',
      '--kilobytes-per-second',
      '--rate-per-second',
      '--mode',
      '--live-port',
    ])
      expect(USAGE).toContain(option);
    expect(USAGE).toContain('Exit codes');
  });
});

describe('parseLabArgs: fault', () => {
  it.each([
    [['partition', 'payment-api'], { kind: 'partition', link: 'payment-api', direction: 'both' }],
    [
      ['partition', 'payment-api', '--direction', 'upstream'],
      { kind: 'partition', link: 'payment-api', direction: 'upstream' },
    ],
    [
      ['latency', 'payment-api', '--ms', '200', '--jitter-ms', '20', '--direction', 'both'],
      { kind: 'latency', link: 'payment-api', ms: 200, jitterMs: 20, direction: 'both' },
    ],
    [['outage', 'edge-signup'], { kind: 'outage', link: 'edge-signup' }],
    [['reset', 'payment-api', '--after-ms', '100'], { kind: 'reset', link: 'payment-api', afterMs: 100 }],
    [
      ['bandwidth', 'payment-api', '--kilobytes-per-second', '5'],
      { kind: 'bandwidth', link: 'payment-api', kilobytesPerSecond: 5, direction: 'downstream' },
    ],
    [
      ['slow-close', 'payment-api', '--delay-ms', '300'],
      { kind: 'slowClose', link: 'payment-api', delayMs: 300 },
    ],
    [
      ['slicer', 'payment-api', '--average-bytes', '8', '--delay-micros', '10'],
      { kind: 'slicer', link: 'payment-api', averageBytes: 8, variationBytes: 0, delayMicros: 10 },
    ],
    [['limitData', 'payment-api', '--bytes', '100'], { kind: 'limitData', link: 'payment-api', bytes: 100 }],
    [
      ['dnsFailure', 'payment-service', '--mode', 'nxdomain'],
      { kind: 'dnsFailure', name: 'payment-service', mode: 'nxdomain' },
    ],
    [['crash', 'signup-service'], { kind: 'crash', service: 'signup-service' }],
    [['dbOutage', 'payment'], { kind: 'dbOutage', target: 'payment' }],
    [['db-latency', 'split', '--ms', '50'], { kind: 'dbLatency', target: 'split', ms: 50, jitterMs: 0 }],
    [
      ['flood', 'pay', '--rate-per-second', '120'],
      { kind: 'flood', route: 'pay', load: { model: 'open', ratePerSecond: 120 } },
    ],
    [['stall', 'payment-service'], { kind: 'stall', service: 'payment-service' }],
    [
      ['deploy', 'payment-service', '--version', 'v2', '--drain-ms', '2000'],
      { kind: 'deploy', service: 'payment-service', version: 'v2', drainMs: 2000 },
    ],
    [['deploy', 'monolith'], { kind: 'deploy', service: 'monolith', drainMs: 10_000 }],
  ])('builds %j with the factories', (argv, fault) => {
    expect(parseLabArgs(['fault', ...argv])).toEqual({ command: 'fault', fault });
  });

  it.each([
    [['fault'], 'which fault?'],
    [['fault', 'partishun', 'payment-api'], '"partishun" is not a fault kind; kinds: latency, partition'],
    [['fault', 'partition'], 'partition needs a target: npm run lab -- fault partition <link>'],
    [
      ['fault', 'partition', 'payment'],
      '"payment" is not one (monolith: edge-monolith, monolith-db; modular: edge-modular, modular-db; split:',
    ],
    [
      ['fault', 'crash', 'postgres'],
      'crash needs a service; "postgres" is not one (monolith, modular, signup-service',
    ],
    [['fault', 'flood', 'charge', '--rate-per-second', '5'], '"charge" is not one (signup, pay, checkout)'],
    [['fault', 'dnsFailure', 'signup-service', '--mode', 'nxdomain'], 'needs a DNS name the lab answers'],
    [
      ['fault', 'latency', 'payment-api'],
      'latency needs --ms, e.g. npm run lab -- fault latency <link> --ms <ms>',
    ],
    [['fault', 'latency', 'payment-api', '--ms', '-5'], '--ms needs a value'],
    [['fault', 'latency', 'payment-api', '--ms', '2.5'], '--ms 2.5: must be a whole number, 0 or more'],
    [['fault', 'latency', 'payment-api', '--ms', 'lots'], '--ms lots: must be a whole number'],
    [
      ['fault', 'latency', 'payment-api', '--ms', '5', '--direction', 'sideways'],
      '--direction sideways: must be one of both',
    ],
    [
      ['fault', 'partition', 'payment-api', '--ms', '5'],
      'partition does not take --ms; it takes --direction',
    ],
    [['fault', 'crash', 'signup-service', '--mode', 'x'], 'crash does not take --mode; it takes none'],
    [
      ['fault', 'dnsFailure', 'payment-service', '--mode', 'refused'],
      '--mode refused: must be one of nxdomain',
    ],
    [
      ['fault', 'deploy', 'payment-service', '--version', 'v3'],
      '--version v3: must be one of v1, v2, v2-expand',
    ],
    [['fault', 'deploy', 'payment-service', '--drain-ms', 'soon'], '--drain-ms soon: must be a whole number'],
    [['fault', 'deploy', 'payment-service', '--drain-ms', '600000'], '--drain-ms 600000: at most 60000'],
    [
      ['fault', 'stall', 'payment-service', '--version', 'v2'],
      'stall does not take --version; it takes none',
    ],
    [['fault', 'flood', 'pay', '--rate-per-second', '0'], 'must be more than 0 and at most 1000'],
    [['fault', 'flood', 'pay', '--rate-per-second', '5000'], 'must be more than 0 and at most 1000'],
    [
      ['fault', 'partition', 'payment-api', 'edge-signup'],
      'unexpected argument edge-signup: one fault at a time',
    ],
    [['fault', 'partition', 'payment-api', '--bogus'], 'unknown option --bogus'],
  ])('refuses %j: %s', (argv, message) => {
    expect(usageMessage(() => parseLabArgs(argv))).toContain(message);
  });
});

describe('fault targets and deployments', () => {
  it('says when a target exists only in the other deployment, and what to aim at here', () => {
    expect(usageMessage(() => checkFaultFits(partition('payment-api'), 'monolith'))).toBe(
      'payment-api is a link of split; this lab runs monolith; here: edge-monolith, monolith-db',
    );
    expect(usageMessage(() => checkFaultFits(buildFault('crash', 'monolith', {}), 'split'))).toBe(
      'monolith is a service of monolith; this lab runs split; here: signup-service, payment-service',
    );
    expect(usageMessage(() => checkFaultFits(buildFault('dbOutage', 'split', {}), 'monolith'))).toBe(
      'dbOutage split names the databases of the split deployment; this lab runs monolith; here: monolith, signup, payment',
    );
    expect(
      usageMessage(() =>
        checkFaultFits(buildFault('dnsFailure', 'payment-service', { mode: 'timeout' }), 'monolith'),
      ),
    ).toContain('touches only split');
  });

  it('accepts every fault that touches the deployment', () => {
    expect(() => checkFaultFits(partition('payment-api'), 'split')).not.toThrow();
    expect(() => checkFaultFits(buildFault('dbOutage', 'payment', {}), 'monolith')).not.toThrow();
    expect(() =>
      checkFaultFits(buildFault('flood', 'pay', { 'rate-per-second': '1' }), 'monolith'),
    ).not.toThrow();
  });

  it('offers, for every kind, exactly the targets that touch each deployment', () => {
    for (const kind of FAULT_KINDS) {
      for (const deployment of ['monolith', 'split'] as const) {
        for (const target of targetsIn(kind, deployment)) {
          const required: readonly string[] = FAULT_SPECS[kind].required;
          const values = Object.fromEntries(
            required.map((name) => [name, name === 'mode' ? 'servfail' : '3']),
          );
          expect(resolveFault(buildFault(kind, target, values), deployment).length).toBeGreaterThan(0);
        }
      }
    }
    expect(targetsIn('crash', 'split')).toEqual(['signup-service', 'payment-service']);
    expect(targetsIn('dnsFailure', 'monolith')).toEqual([]);
  });

  it('names faults the way the command line does', () => {
    const fault = buildFault('dbLatency', 'payment', { ms: '5' });
    expect(faultTargetName(fault)).toBe('payment');
    expect(faultMatches(fault, 'db-latency', 'payment')).toBe(true);
    expect(faultMatches(fault, 'dbOutage', 'payment')).toBe(false);
    expect(parseFaultKind('SLOWCLOSE')).toBe('slowClose');
    expect(describeHandFault(buildFault('crash', 'signup-service', {}))).toBe(
      'signup-service killed (SIGKILL); restarted when healed',
    );
  });
});
