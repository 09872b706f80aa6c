import { execFileSync } from 'node:child_process';

/**
 * The shared libraries a dynamically linked binary loads, from `ldd`'s output: what a `FROM scratch`
 * image must contain for the binary to start. Includes the loader (`/lib64/ld-linux-x86-64.so.2`), whose
 * absence gives the baffling "exec /usr/bin/node: no such file or directory".
 *
 * @example
 *   parseLdd('\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f...)\n\t/lib64/ld-linux-x86-64.so.2 (0x7f...)')
 *   // ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']
 */
export function parseLdd(output: string): string[] {
  const libraries: string[] = [];
  for (const line of output.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('linux-vdso') || trimmed.includes('statically linked')) continue;
    if (trimmed.includes('=> not found')) {
      throw new Error(`a shared library is missing on this machine: ${trimmed}`);
    }
    const resolved =
      /=>\s+(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(trimmed) ?? /^(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(trimmed);
    if (resolved?.[1]) libraries.push(resolved[1]);
  }
  return libraries;
}

/** The union of the shared libraries of several binaries (absolute paths on this machine). */
export function sharedLibraryClosure(binaries: readonly string[]): string[] {
  const all = new Set<string>();
  for (const binary of binaries) {
    let output: string;
    try {
      output = execFileSync('ldd', [binary], { encoding: 'utf8' });
    } catch (error) {
      // ldd exits 1 for static binaries ("not a dynamic executable"): nothing to copy.
      const stdout = String((error as { stdout?: unknown }).stdout ?? '');
      const stderr = String((error as { stderr?: unknown }).stderr ?? '');
      if (`${stdout}${stderr}`.includes('not a dynamic executable')) continue;
      throw new Error(`ldd ${binary} failed: ${stderr || String(error)}`, { cause: error });
    }
    for (const library of parseLdd(output)) all.add(library);
  }
  return [...all].sort();
}
