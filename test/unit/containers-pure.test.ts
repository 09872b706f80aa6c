import { describe, expect, it } from 'vitest';
import { runtimePackageDirs } from '../../lab/runtime/containers/package-closure.ts';
import { imageSourceFromEnv } from '../../lab/runtime/containers/resolve-images.ts';
import { ownerPidOfNetwork } from '../../lab/runtime/containers/labels.ts';
import { parseLdd } from '../../lab/runtime/containers/shared-libraries.ts';
import { PROJECT_ROOT } from '../../lab/project-root.ts';
import { describeQuota, quotaFor } from '../../lab/vocabulary/quotas.ts';

describe('parseLdd', () => {
  it('lists resolved libraries and the loader, not the vdso', () => {
    const output = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f2d)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2c)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f2e)',
    ].join('\n');
    expect(parseLdd(output)).toEqual([
      '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('refuses a binary whose library is missing, naming it', () => {
    expect(() => parseLdd('\tlibicu.so.60 => not found')).toThrow(/libicu.so.60 => not found/);
  });
});

describe('runtimePackageDirs', () => {
  it("takes the services' packages and their dependencies, nothing else", async () => {
    const dirs = await runtimePackageDirs(PROJECT_ROOT, ['pg', 'cockatiel']);
    expect(dirs).toContain('node_modules/pg');
    expect(dirs).toContain('node_modules/pg-pool');
    expect(dirs).toContain('node_modules/pg-protocol');
    expect(dirs).toContain('node_modules/cockatiel');
    expect(dirs.some((dir) => dir.includes('testcontainers') || dir.includes('vitest'))).toBe(false);
  });

  it('names a package that is not installed', async () => {
    await expect(runtimePackageDirs(PROJECT_ROOT, ['no-such-package-here'])).rejects.toThrow(
      /no-such-package-here .* not installed; run npm ci/,
    );
  });
});

describe('labels', () => {
  it('reads the owner pid from a lab network name, and nothing from other names', () => {
    expect(ownerPidOfNetwork('splitlab-4242-a1b2c3')).toBe(4242);
    expect(ownerPidOfNetwork('bridge')).toBeUndefined();
    expect(ownerPidOfNetwork('splitlab-notapid-a1')).toBeUndefined();
  });
});

describe('quotas', () => {
  it('gives both deployments the same budget: the monolith all of it, each split service half', () => {
    expect(quotaFor('monolith')).toEqual({ cpu: 2, memoryMiB: 1024 });
    expect(quotaFor('signup-service')).toEqual({ cpu: 1, memoryMiB: 512 });
    expect(quotaFor('payment-service', { 'payment-service': { cpu: 0.5 } })).toEqual({
      cpu: 0.5,
      memoryMiB: 512,
    });
    expect(describeQuota({ cpu: 0.5, memoryMiB: 256 })).toBe('0.5 CPU, 256 MiB');
  });
});

describe('SPLITLAB_IMAGES', () => {
  it('knows auto, local and official, and names the choices otherwise', () => {
    expect(imageSourceFromEnv(undefined)).toBe('auto');
    expect(imageSourceFromEnv('local')).toBe('local');
    expect(imageSourceFromEnv('official')).toBe('official');
    expect(() => imageSourceFromEnv('registry')).toThrow(/use auto \(the default\), local or official/);
  });
});
