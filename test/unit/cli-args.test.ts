import { describe, expect, it } from 'vitest';
import { isLabError } from '../../lab/errors.ts';
import { formatFlags, parseCliArgs, SCENARIO_FLAGS, USAGE } from '../../lab/cli/scenario-args.ts';

/** The USAGE error `parseCliArgs` throws for `argv`. */
function usageError(argv: string[]): { code: string; message: string } {
  try {
    parseCliArgs(argv);
  } catch (error) {
    if (isLabError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error(`parseCliArgs(${JSON.stringify(argv)}) did not throw`);
}

describe('parseCliArgs', () => {
  it('reads a scenario name and options', () => {
    expect(parseCliArgs(['partition', '--runtime', 'local', '--reports-dir', '/tmp/r'])).toEqual({
      command: 'run',
      scenario: 'partition',
      runtime: 'local',
      reportsDir: '/tmp/r',
    });
  });

  it.each(['local', 'containers', 'auto'])('accepts --runtime %s', (runtime) => {
    expect(parseCliArgs(['partition', '--runtime', runtime]).runtime).toBe(runtime);
  });

  it('reads where the containers runtime runs the load generator', () => {
    expect(parseCliArgs(['partition', '--runtime', 'containers', '--generator', 'host']).generator).toBe(
      'host',
    );
    expect(parseCliArgs(['partition', '--runtime', 'auto', '--generator', 'network']).generator).toBe(
      'network',
    );
    expect(parseCliArgs(['partition', '--runtime', 'containers']).generator).toBeUndefined();
  });

  it('refuses a --generator it does not know, or one the local runtime cannot honour', () => {
    expect(usageError(['partition', '--runtime', 'containers', '--generator', 'cloud'])).toEqual({
      code: 'USAGE',
      message: expect.stringMatching(/--generator cloud is not known; use auto .*, network .* or host/),
    });
    expect(usageError(['partition', '--generator', 'host'])).toEqual({
      code: 'USAGE',
      message: expect.stringMatching(/--generator is for the containers runtime.*Add --runtime containers/),
    });
  });

  it('defaults to the local runtime, which needs no Docker', () => {
    expect(parseCliArgs(['partition']).runtime).toBe('local');
  });

  it('knows --list and --help', () => {
    expect(parseCliArgs(['--list']).command).toBe('list');
    expect(parseCliArgs(['partition', '--help']).command).toBe('help');
    expect(parseCliArgs(['-h']).command).toBe('help');
  });

  it('reads a value written after "=", and a scenario directory', () => {
    expect(parseCliArgs(['partition', '--runtime=containers', '--scenarios-dir', 'mine'])).toEqual({
      command: 'run',
      scenario: 'partition',
      runtime: 'containers',
      scenariosDir: 'mine',
    });
  });

  it('answers --help even when the rest of the line is wrong', () => {
    expect(parseCliArgs(['--bogus', '--help']).command).toBe('help');
    expect(parseCliArgs(['--runtime', 'kubernetes', '-h']).command).toBe('help');
  });

  it('still checks --runtime when listing', () => {
    expect(usageError(['--list', '--runtime', 'kubernetes']).message).toMatch(
      /--runtime kubernetes is not known/,
    );
  });

  it.each([
    [[], /which scenario/],
    [['partition', '--bogus'], /unknown option --bogus/],
    [['partition', '--runtime'], /--runtime needs a value/],
    [
      ['partition', '--runtime', 'kubernetes'],
      /--runtime kubernetes is not known; use local \(the default\), containers or auto/,
    ],
    [['a', 'b'], /one scenario at a time/],
  ])('refuses %j with a message that names the problem', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(message);
  });

  it.each([
    [['partition', '--bogus'], 'unknown option --bogus. See npm run scenario -- --help.'],
    [['partition', '-x'], 'unknown option -x. See npm run scenario -- --help.'],
    [['partition', '--runtime'], '--runtime needs a value. See --help.'],
    // A value that looks like a flag is most likely a forgotten value.
    [['partition', '--reports-dir', '--list'], '--reports-dir needs a value. See --help.'],
    [['--list=yes'], '--list takes no value. See --help.'],
    [['a', 'b', 'c'], 'one scenario at a time; got a, b, c'],
  ])('turns the parser error for %j into a USAGE error in its own words', (argv, message) => {
    expect(usageError(argv)).toEqual({ code: 'USAGE', message });
  });
});

describe('parseCliArgs all', () => {
  it('runs every scenario with "all"', () => {
    expect(parseCliArgs(['all', '--reports-dir', 'out'])).toMatchObject({
      command: 'all',
      reportsDir: 'out',
    });
  });
});

describe('predictions flags', () => {
  it('reads --predict', () => {
    expect(parseCliArgs(['partition', '--predict'])).toEqual({
      command: 'run',
      scenario: 'partition',
      runtime: 'local',
      predict: true,
    });
  });

  it('reads --predictions <file>, for one scenario or all', () => {
    expect(parseCliArgs(['partition', '--predictions', 'guesses.json']).predictionsFile).toBe('guesses.json');
    expect(parseCliArgs(['all', '--predictions=all.json'])).toMatchObject({
      command: 'all',
      predictionsFile: 'all.json',
    });
  });

  it.each([
    [
      ['partition', '--predict', '--predictions', 'g.json'],
      '--predict and --predictions both give predictions; use one: --predict to type them, --predictions <file> to read them',
    ],
    [['partition', '--predictions'], '--predictions needs a value. See --help.'],
    [['partition', '--predictions', '--live'], '--predictions needs a value. See --help.'],
    [['partition', '--predictions='], '--predictions needs a file name. See --help.'],
    [['partition', '--predict=yes'], '--predict takes no value. See --help.'],
  ])('refuses %j', (argv, message) => {
    expect(usageError(argv)).toEqual({ code: 'USAGE', message });
  });
});

describe('live flags', () => {
  it('serves the live view on this machine and any free port by default', () => {
    expect(parseCliArgs(['partition', '--live']).live).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseCliArgs(['partition']).live).toBeUndefined();
  });

  it.each([
    [['--live-port', '8080'], { host: '127.0.0.1', port: 8080 }],
    [['--live-port', '0'], { host: '127.0.0.1', port: 0 }],
    [['--live-port=65535'], { host: '127.0.0.1', port: 65535 }],
    [['--live-host', '0.0.0.0'], { host: '0.0.0.0', port: 0 }],
    [['--live-host', '::1', '--live-port', '9000'], { host: '::1', port: 9000 }],
  ])('reads --live %j', (flags, live) => {
    expect(parseCliArgs(['partition', '--live', ...flags]).live).toEqual(live);
  });

  it.each([
    [['--live-port', '65536'], /--live-port 65536 is not a port; use a whole number from 0 to 65535/],
    [['--live-port', '-1'], /--live-port needs a value/],
    [['--live-port', 'http'], /--live-port http is not a port/],
    [['--live-port', '80.5'], /--live-port 80.5 is not a port/],
    [['--live-port', ''], /--live-port needs a port number, 0 to 65535/],
    [['--live-host', ''], /--live-host needs an address, e.g. 127.0.0.1/],
    [['--live-port'], /--live-port needs a value/],
  ])('refuses --live %j', (flags, message) => {
    expect(usageError(['partition', '--live', ...flags]).message).toMatch(message);
  });

  it.each([
    [['--live-port', '8080'], '--live-port only applies to the live view; add --live to serve it'],
    [['--live-host', '0.0.0.0'], '--live-host only applies to the live view; add --live to serve it'],
  ])('refuses %j without --live', (flags, message) => {
    expect(usageError(['partition', ...flags])).toEqual({ code: 'USAGE', message });
  });

  it('takes every flag together', () => {
    expect(
      parseCliArgs(['all', '--predictions', 'p.json', '--live', '--live-port', '7000', '--runtime', 'auto']),
    ).toEqual({
      command: 'all',
      runtime: 'auto',
      predictionsFile: 'p.json',
      live: { host: '127.0.0.1', port: 7000 },
    });
  });
});

describe('--junit and --summary-md', () => {
  it('reads both files, with any command that runs', () => {
    expect(parseCliArgs(['all', '--junit', 'test-results/splitlab.xml', '--summary-md=summary.md'])).toEqual({
      command: 'all',
      runtime: 'local',
      junitFile: 'test-results/splitlab.xml',
      summaryMarkdownFile: 'summary.md',
    });
    expect(parseCliArgs(['partition', '--junit', 'j.xml'])).toEqual({
      command: 'run',
      scenario: 'partition',
      runtime: 'local',
      junitFile: 'j.xml',
    });
  });

  it.each([
    [['--junit='], '--junit needs a file name, e.g. --junit test-results/splitlab.xml'],
    [['--summary-md', ' '], '--summary-md needs a file name, e.g. --summary-md splitlab-summary.md'],
    [['--junit'], '--junit needs a value. See --help.'],
    [
      ['--junit', 'out.txt', '--summary-md', 'out.txt'],
      '--junit and --summary-md both name out.txt; give each its own file, e.g. splitlab.xml and splitlab.md',
    ],
  ])('refuses %j with a USAGE error that says what to write', (flags, message) => {
    expect(usageError(['partition', ...flags])).toEqual({ code: 'USAGE', message });
  });
});

describe('--help', () => {
  it('explains predictions, the live view and the progress block', () => {
    expect(USAGE).toContain('--predictions <file>');
    expect(USAGE).toContain('--live-port <port>');
    expect(USAGE).toMatch(/status block/);
  });

  it('explains the CI outputs', () => {
    expect(USAGE).toContain('--junit <file>');
    expect(USAGE).toContain('--summary-md <file>');
    expect(USAGE).toContain('GITHUB_STEP_SUMMARY');
  });

  it('shows every flag of the table', () => {
    for (const flag of Object.keys(SCENARIO_FLAGS)) expect(USAGE).toContain(`--${flag}`);
  });

  it('lines the descriptions up in one column', () => {
    expect(
      formatFlags({
        short: { type: 'string', usage: '--short <x>', description: ['first line', 'second line'] },
        'much-longer': { type: 'boolean', usage: '--much-longer', description: ['third line'] },
        hidden: { type: 'boolean' },
      }),
    ).toBe(
      ['  --short <x>    first line', '                 second line', '  --much-longer  third line'].join(
        '\n',
      ),
    );
  });
});
