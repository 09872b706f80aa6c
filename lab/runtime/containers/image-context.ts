import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** One entry of a build context, by its path relative to the context directory. */
type Entry =
  | { kind: 'file'; target: string; source: string; mode: number }
  | { kind: 'content'; target: string; content: string; mode: number }
  | { kind: 'dir'; target: string; mode: number }
  | { kind: 'symlink'; target: string; link: string };

/**
 * A Docker build context described before it is written: a Dockerfile and a `rootfs/` tree that the
 * Dockerfile copies into a `FROM scratch` image. Its content hash, read straight from the source files,
 * names the image; the context is written to disk (`materialize`) only when that image must be built,
 * so a start whose images exist copies nothing.
 */
export class ImageContext {
  private readonly entries: Entry[] = [];

  private static inImage(target: string): string {
    return path.posix.join('rootfs', target);
  }

  /** Copies a file (following symlinks) to an absolute path inside the image, keeping its mode. */
  async copyFile(source: string, inImage: string): Promise<void> {
    const mode = (await stat(source)).mode & 0o7777;
    this.entries.push({ kind: 'file', target: ImageContext.inImage(inImage), source, mode });
  }

  /** Copies a directory tree, keeping symlinks as symlinks (shared-library version links). */
  async copyTree(source: string, inImage: string): Promise<void> {
    await this.addTree(source, ImageContext.inImage(inImage));
  }

  private async addTree(source: string, target: string): Promise<void> {
    const info = await lstat(source);
    if (info.isSymbolicLink()) this.entries.push({ kind: 'symlink', target, link: await readlink(source) });
    else if (info.isFile()) this.entries.push({ kind: 'file', target, source, mode: info.mode & 0o7777 });
    else if (info.isDirectory()) {
      this.entries.push({ kind: 'dir', target, mode: info.mode & 0o7777 });
      for (const name of (await readdir(source)).sort()) {
        await this.addTree(path.join(source, name), path.posix.join(target, name));
      }
    }
  }

  async writeFile(inImage: string, content: string, mode = 0o644): Promise<void> {
    await this.writeContextFile(ImageContext.inImage(inImage), content, mode);
  }

  async makeDir(inImage: string, mode = 0o755): Promise<void> {
    await this.makeContextDir(ImageContext.inImage(inImage), mode);
  }

  /** A file next to the Dockerfile (not in the image unless the Dockerfile copies it). */
  async writeContextFile(relative: string, content: string, mode = 0o644): Promise<void> {
    this.entries.push({ kind: 'content', target: relative, content, mode });
  }

  async makeContextDir(relative: string, mode = 0o755): Promise<void> {
    this.entries.push({ kind: 'dir', target: relative, mode });
  }

  async writeDockerfile(content: string): Promise<void> {
    await this.writeContextFile('Dockerfile', content);
  }

  /** sha256 over every path, mode, symlink target and file content of the context: the image's tag. */
  async contentHash(extra = ''): Promise<string> {
    const hash = createHash('sha256');
    hash.update(extra);
    for (const entry of this.entries) {
      hash.update(`\0${entry.kind}\0${entry.target}\0${'mode' in entry ? entry.mode.toString(8) : ''}\0`);
      if (entry.kind === 'symlink') hash.update(entry.link);
      else if (entry.kind === 'content') hash.update(entry.content);
      else if (entry.kind === 'file') {
        for await (const chunk of createReadStream(entry.source)) hash.update(chunk as Buffer);
      }
    }
    return hash.digest('hex').slice(0, 16);
  }

  /** Writes the context into `dir` for `docker build`. */
  async materialize(dir: string): Promise<void> {
    for (const entry of this.entries) {
      const destination = path.join(dir, entry.target);
      await mkdir(entry.kind === 'dir' ? destination : path.dirname(destination), { recursive: true });
      if (entry.kind === 'symlink') await symlink(entry.link, destination);
      else {
        if (entry.kind === 'file') await copyFile(entry.source, destination);
        if (entry.kind === 'content') await writeFile(destination, entry.content);
        await chmod(destination, entry.mode);
      }
    }
  }
}
