import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../lab/cli/scenario-args.ts';

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

  it('defaults to the local runtime, which needs no Docker', () => {
    expect(parseCliArgs(['partition']).runtime).toBe('local');
  });

  it('knows --list and --help', () => {
    expect(parseCliArgs(['--list']).command).toBe('list');
    expect(parseCliArgs(['partition', '--help']).command).toBe('help');
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
});

describe('parseCliArgs all', () => {
  it('runs every scenario with "all"', () => {
    expect(parseCliArgs(['all', '--reports-dir', 'out'])).toMatchObject({
      command: 'all',
      reportsDir: 'out',
    });
  });
});
