import type { RuntimeChoice } from '../cli/scenario-args.ts';
import { containersRuntime, type ContainersRuntimeOptions } from './containers/containers-runtime.ts';
import { probeDocker } from './containers/docker.ts';
import { localRuntime, type LocalRuntimeOptions } from './local/local-runtime.ts';
import type { LabLog, Runtime } from './runtime.ts';

/**
 * The one place that turns `--runtime` into a runtime. `auto` asks the Docker engine first and says
 * which runtime it chose and why, so a report is never silently from the other one.
 *
 * @example
 *   const runtime = await chooseRuntime('auto', { log: console.error });
 */
export async function chooseRuntime(
  choice: RuntimeChoice,
  options: {
    log: LabLog;
    local?: LocalRuntimeOptions;
    containers?: ContainersRuntimeOptions;
    /** How `auto` asks for an engine (tests pass their own answer). */
    probe?: typeof probeDocker;
  },
): Promise<Runtime> {
  if (choice === 'local') return localRuntime(options.local);
  if (choice === 'containers') return containersRuntime(options.containers);
  const docker = await (options.probe ?? probeDocker)();
  if (docker.available) {
    options.log(`--runtime auto: a Docker engine answers (${docker.version}); using the containers runtime`);
    return containersRuntime(options.containers);
  }
  options.log(`--runtime auto: ${docker.reason.split('. ')[0]}; using the local runtime`);
  return localRuntime(options.local);
}
