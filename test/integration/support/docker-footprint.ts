import { execFileSync } from 'node:child_process';

/** What `docker ps -a` shows of the lab (by its label): the names of its containers, running or not. */
export function labContainers(): string[] {
  return dockerLines(['ps', '-a', '--filter', 'label=io.splitlab.lab', '--format', '{{.Names}}']);
}

/** What `docker network ls` shows of the lab (its networks are named splitlab-<pid>-<hex>). */
export function labNetworks(): string[] {
  return dockerLines(['network', 'ls', '--filter', 'name=splitlab-', '--format', '{{.Name}}']);
}

function dockerLines(args: string[]): string[] {
  return execFileSync('docker', args, { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}
