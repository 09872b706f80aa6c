import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A Docker build context assembled in a temp directory: a Dockerfile and a `rootfs/` tree that the
 * Dockerfile copies into a `FROM scratch` image. Its content hash names the image, so an unchanged
 * context is never built twice.
 */
export class ImageContext {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  private target(inImage: string): string {
    return path.join(this.dir, 'rootfs', inImage);
  }

  /** Copies a file (following symlinks) to an absolute path inside the image, keeping its mode. */
  async copyFile(source: string, inImage: string): Promise<void> {
    const destination = this.target(inImage);
    await mkdir(path.dirname(destination), { recursive: true });
    await copyFile(source, destination);
    await chmod(destination, (await stat(source)).mode & 0o7777);
  }

  /** Copies a directory tree, keeping symlinks as symlinks (shared-library version links). */
  async copyTree(source: string, inImage: string): Promise<void> {
    const destination = this.target(inImage);
    await copyTreeTo(source, destination);
  }

  async writeFile(inImage: string, content: string, mode = 0o644): Promise<void> {
    const destination = this.target(inImage);
    await mkdir(path.dirname(destination), { recursive: true });
    await writeFile(destination, content);
    await chmod(destination, mode);
  }

  async makeDir(inImage: string, mode = 0o755): Promise<void> {
    const destination = this.target(inImage);
    await mkdir(destination, { recursive: true });
    await chmod(destination, mode);
  }

  /** A file next to the Dockerfile (not in the image unless the Dockerfile copies it). */
  async writeContextFile(relative: string, content: string, mode = 0o644): Promise<void> {
    const destination = path.join(this.dir, relative);
    await mkdir(path.dirname(destination), { recursive: true });
    await writeFile(destination, content);
    await chmod(destination, mode);
  }

  async makeContextDir(relative: string, mode = 0o755): Promise<void> {
    const destination = path.join(this.dir, relative);
    await mkdir(destination, { recursive: true });
    await chmod(destination, mode);
  }

  async writeDockerfile(content: string): Promise<void> {
    await writeFile(path.join(this.dir, 'Dockerfile'), content);
  }

  /** sha256 over every path, mode, symlink target and file content of the context: the image's tag. */
  async contentHash(extra = ''): Promise<string> {
    const hash = createHash('sha256');
    hash.update(extra);
    for (const entry of await walk(this.dir)) {
      const info = await lstat(entry);
      const relative = path.relative(this.dir, entry);
      hash.update(`\0${relative}\0${info.mode.toString(8)}\0`);
      if (info.isSymbolicLink()) hash.update(await readlink(entry));
      else if (info.isFile()) {
        for await (const chunk of createReadStream(entry)) hash.update(chunk as Buffer);
      }
    }
    return hash.digest('hex').slice(0, 16);
  }
}

async function copyTreeTo(source: string, destination: string): Promise<void> {
  const info = await lstat(source);
  if (info.isSymbolicLink()) {
    await mkdir(path.dirname(destination), { recursive: true });
    await symlink(await readlink(source), destination);
  } else if (info.isDirectory()) {
    await mkdir(destination, { recursive: true });
    await chmod(destination, info.mode & 0o7777);
    for (const name of await readdir(source)) {
      await copyTreeTo(path.join(source, name), path.join(destination, name));
    }
  } else if (info.isFile()) {
    await mkdir(path.dirname(destination), { recursive: true });
    await copyFile(source, destination);
    await chmod(destination, info.mode & 0o7777);
  }
}

async function walk(dir: string): Promise<string[]> {
  const entries: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const full = path.join(dir, name);
    entries.push(full);
    const info = await lstat(full);
    if (info.isDirectory()) entries.push(...(await walk(full)));
  }
  return entries;
}
