/**
 * `npm run lab -- <command>`: the interactive lab. `up` starts one deployment and keeps it running until
 * Ctrl-C; `status`, `fault` and `heal` talk to it over its control socket. Exit codes: 0 done, 1 no lab
 * is up, 2 usage or set-up error, 3 the lab could not do what was asked (a fault not observed, a
 * dependency of the lab died), 130 a second Ctrl-C (exit at once).
 */
import { readFileSync, rmSync } from 'node:fs';
import {
  EXIT_HYPOTHESIS_HELD,
  EXIT_RUN_INVALID,
  EXIT_USAGE_OR_SETUP,
  isLabError,
  type LabErrorCode,
} from '../errors.ts';
import { controlPaths } from '../interactive/control-files.ts';
import { fetchStatus, findLab, NoLabUpError, sendFault, sendHeal } from '../interactive/control-client.ts';
import { checkFaultFits } from '../interactive/hand-fault.ts';
import { parseLabArgs, USAGE } from '../interactive/lab-args.ts';
import { formatApplied, formatHealed, formatStatus, STEADY_LOAD_RATES } from '../interactive/lab-text.ts';
import { LabError } from '../errors.ts';

const EXIT_NO_LAB_UP = 1;
const EXIT_INTERRUPTED = 130;

/** What the lab could not do, as opposed to what was asked wrongly: exit 3. */
const COULD_NOT: readonly LabErrorCode[] = ['FAULT_NOT_OBSERVED', 'DEPENDENCY_FAILED', 'TOXIPROXY_API'];

const log = (line: string): void => console.error(`splitlab: ${line}`);

const paths = controlPaths();

/** Set once `up` runs: what Ctrl-C, SIGTERM and a closed output pipe abort, so the teardown runs. */
let upInProgress: AbortController | undefined;
let abortedAtMs: number | undefined;

/** The control files, when this process is the lab that wrote them (a refused second up is not). */
function removeOwnControlFiles(): void {
  try {
    const owner = (JSON.parse(readFileSync(paths.state, 'utf8')) as { pid?: number }).pid;
    if (owner !== process.pid) return;
  } catch {
    return;
  }
  rmSync(paths.socket, { force: true });
  rmSync(paths.state, { force: true });
}

function stopOnSignals(controller: AbortController): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (controller.signal.aborted) {
        log('second interrupt: exiting now; what the lab started dies with it or is removed by the next up');
        removeOwnControlFiles();
        process.exit(EXIT_INTERRUPTED);
      }
      abortedAtMs = performance.now();
      log(`${signal}: stopping the lab and tearing everything down ...`);
      controller.abort();
    });
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const command = parseLabArgs(argv);
  switch (command.command) {
    case 'help':
      console.log(USAGE);
      return EXIT_HYPOTHESIS_HELD;
    case 'up': {
      const controller = new AbortController();
      upInProgress = controller;
      stopOnSignals(controller);
      // Loaded only for up: status, fault and heal start in a fraction of the time without the runtimes.
      const { runLabUp } = await import('../interactive/lab-up.ts');
      return await runLabUp({
        deployment: command.deployment,
        runtime: command.runtime,
        load: command.load,
        ...(command.live ? { live: command.live } : {}),
        paths,
        signal: controller.signal,
        abortedAtMs: () => abortedAtMs,
        log,
        print: (text) => console.log(text),
      });
    }
    case 'status': {
      await findLab(paths);
      const status = await fetchStatus(paths);
      console.log(command.json ? JSON.stringify(status, null, 2) : formatStatus(status, STEADY_LOAD_RATES));
      return EXIT_HYPOTHESIS_HELD;
    }
    case 'fault': {
      const state = await findLab(paths);
      // Checked here too, so a fault for the other deployment is refused without a round trip.
      checkFaultFits(command.fault, state.deployment);
      if (command.fault.kind === 'flood' && !state.load)
        throw new LabError(
          'USAGE',
          'a flood is extra load on top of the steady load, and this lab runs none: start it with npm run lab -- up --load',
        );
      console.log(formatApplied(await sendFault(paths, command.fault)));
      return EXIT_HYPOTHESIS_HELD;
    }
    case 'heal': {
      await findLab(paths);
      const answer = await sendHeal(paths, command.which);
      console.log(formatHealed(answer));
      return answer.healed.every((healed) => healed.observed) ? EXIT_HYPOTHESIS_HELD : EXIT_RUN_INVALID;
    }
    default:
      return command satisfies never;
  }
}

// `npm run lab -- status | head` closes our output early: not an error. While `up` runs it must not kill
// the process either (that would leave everything running): it stops the lab as Ctrl-C does.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    if (!upInProgress) process.exit(process.exitCode ?? 0);
    if (!upInProgress.signal.aborted) {
      abortedAtMs = performance.now();
      upInProgress.abort();
    }
  });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof NoLabUpError) {
    console.error(`splitlab: ${error.message}`);
    process.exitCode = EXIT_NO_LAB_UP;
  } else if (isLabError(error)) {
    console.error(`splitlab: ${error.message} [${error.code}]`);
    process.exitCode = COULD_NOT.includes(error.code) ? EXIT_RUN_INVALID : EXIT_USAGE_OR_SETUP;
  } else {
    console.error('splitlab: unexpected error:', error);
    process.exitCode = EXIT_USAGE_OR_SETUP;
  }
}
