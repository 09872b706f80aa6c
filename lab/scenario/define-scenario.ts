import { LabError } from '../errors.ts';
import { defaultVariants } from '../vocabulary/variants.ts';
import type { Scenario, ScenarioDefinition } from './scenario-definition.ts';
import { scenarioProblems } from './scenario-schema.ts';

export type {
  ClaimDefinition,
  PhaseDefinition,
  RouteRate,
  Scenario,
  ScenarioDefinition,
} from './scenario-definition.ts';

/**
 * Declares a scenario and validates it at load time, so a mistake is reported with the field that is
 * wrong before anything starts: `scenario <name>: <path> <problem>`, one line per problem.
 *
 * @example
 *   export default defineScenario({ name: 'partition', title: 'What happens ...?', ... });
 */
export function defineScenario(definition: ScenarioDefinition): Scenario {
  const problems = scenarioProblems(definition);
  if (problems.length > 0) {
    const name = String((definition as Partial<ScenarioDefinition> | undefined)?.name ?? '') || '(unnamed)';
    throw new LabError(
      'INVALID_SCENARIO',
      problems.map((problem) => `scenario ${name}: ${problem}`).join('\n'),
    );
  }
  return {
    ...definition,
    quotas: definition.quotas ?? {},
    variants: definition.variants ?? defaultVariants(),
    durationS: definition.timeline.reduce((sum, phase) => sum + phase.durationS, 0),
  };
}
