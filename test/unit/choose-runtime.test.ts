import { describe, expect, it } from 'vitest';
import { chooseRuntime } from '../../lab/runtime/choose-runtime.ts';

describe('chooseRuntime', () => {
  it('auto takes containers when an engine answers, and says so', async () => {
    const lines: string[] = [];
    const runtime = await chooseRuntime('auto', {
      log: (line) => lines.push(line),
      probe: async () => ({ available: true, version: 'Docker API 1.41 on Debian' }),
    });
    expect(runtime.name).toBe('containers');
    expect(lines).toEqual([
      '--runtime auto: a Docker engine answers (Docker API 1.41 on Debian); using the containers runtime',
    ]);
  });

  it('auto falls back to local when no engine answers, and says why', async () => {
    const lines: string[] = [];
    const runtime = await chooseRuntime('auto', {
      log: (line) => lines.push(line),
      probe: async () => ({
        available: false,
        reason: 'no Docker engine answers (connect ENOENT). Start one',
      }),
    });
    expect(runtime.name).toBe('local');
    expect(lines).toEqual([
      '--runtime auto: no Docker engine answers (connect ENOENT); using the local runtime',
    ]);
  });

  it('local and containers are taken as asked, without asking the engine', async () => {
    const probe = async (): Promise<never> => {
      throw new Error('must not probe');
    };
    expect((await chooseRuntime('local', { log: () => undefined, probe })).name).toBe('local');
    expect((await chooseRuntime('containers', { log: () => undefined, probe })).name).toBe('containers');
  });
});
