import { createInterface } from 'node:readline/promises';
import { LabError } from '../errors.ts';
import type { Predictions } from '../results.ts';
import type { Scenario } from '../scenario/define-scenario.ts';
import { describeClaimInWords, parsePredictionAnswer, predictionUnitOf } from './prediction-units.ts';

/** Asks one question; resolves null when the input ended (Ctrl-D): the remaining claims are skipped. */
export type AskLine = (prompt: string) => Promise<string | null>;

/**
 * The "predict, then run" dialogue: for each claim of each scenario, shows what the claim says and the
 * metric in words and asks for a guess in the unit shown. An empty answer skips the claim; an answer that
 * is not a number the claim can have is explained and asked again. Returns the predictions of each
 * scenario that got any. The terminal is wrapped by {@link askPredictionsOnTerminal}; this is the
 * dialogue alone, so a test can script the answers.
 */
export async function collectPredictions(
  scenarios: readonly Scenario[],
  ask: AskLine,
  write: (text: string) => void,
): Promise<Map<string, Predictions>> {
  write(
    'Predict, then run: before anything starts, guess what each claim will measure.\n' +
      'Type a number in the unit shown, or press Enter to skip a claim.\n',
  );
  const result = new Map<string, Predictions>();
  for (const scenario of scenarios) {
    write(`\n${scenario.name}: ${scenario.title}\n`);
    const values: Record<string, number> = {};
    for (const [index, claim] of scenario.hypothesis.entries()) {
      const unit = predictionUnitOf(claim);
      write(
        `\n  ${index + 1}/${scenario.hypothesis.length} ${claim.id}\n` +
          `      "${claim.says}"\n` +
          `      ${describeClaimInWords(claim)}\n`,
      );
      for (;;) {
        const answer = await ask(`  your guess, in ${unit.shown} (e.g. ${unit.example}; Enter skips): `);
        if (answer === null) {
          write('\n(end of input: the remaining claims are not predicted)\n');
          if (Object.keys(values).length > 0) result.set(scenario.name, { source: 'terminal', values });
          return result;
        }
        if (answer.trim() === '') break;
        const value = parsePredictionAnswer(answer, unit);
        if (typeof value === 'number') {
          values[claim.id] = value;
          break;
        }
        write(`  ${value.problem}\n`);
      }
    }
    if (Object.keys(values).length > 0) result.set(scenario.name, { source: 'terminal', values });
  }
  const count = [...result.values()].reduce((sum, entry) => sum + Object.keys(entry.values).length, 0);
  write(`\n${count} ${count === 1 ? 'prediction' : 'predictions'} recorded; the report compares them.\n\n`);
  return result;
}

/**
 * `--predict`: the dialogue on this process's terminal. Needs a terminal on stdin: anything else (a pipe,
 * CI) is a USAGE error that points at `--predictions <file>`. Ctrl-C is LabError INTERRUPTED.
 */
export async function askPredictionsOnTerminal(
  scenarios: readonly Scenario[],
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stdout,
): Promise<Map<string, Predictions>> {
  if (!input.isTTY) {
    throw new LabError(
      'USAGE',
      '--predict asks on the terminal, but stdin is not a terminal (a pipe or CI); ' +
        'write your predictions to a JSON file and pass --predictions <file> instead (see docs/cli.md#predictions)',
    );
  }
  const lines = createInterface({ input, output, terminal: true });
  let interrupt: (error: LabError) => void = () => undefined;
  const interrupted = new Promise<never>((_resolve, reject) => (interrupt = reject));
  // Keeps an interrupt that no question awaits from becoming an unhandled rejection.
  interrupted.catch(() => undefined);
  const ended = new Promise<null>((resolve) => lines.once('close', () => resolve(null)));
  // The terminal is in raw mode while asking: Ctrl-C reaches readline, not the process.
  lines.on('SIGINT', () => {
    output.write('\n');
    interrupt(new LabError('INTERRUPTED', 'interrupted while asking for predictions: nothing was started'));
  });
  try {
    return await collectPredictions(
      scenarios,
      // A question still pending when the input closes is rejected: that, too, is the end of input.
      (prompt) => Promise.race([lines.question(prompt).catch(() => null), ended, interrupted]),
      (text) => output.write(text),
    );
  } finally {
    lines.close();
  }
}
