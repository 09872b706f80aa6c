import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { RESULTS_JSON_SCHEMA_PATH } from '../../lab/cli/results-schema.ts';
import { resultsJsonSchemaText, runResultsSchema } from '../../lab/results.ts';
import { makeReportResults } from './fixtures/report-results.ts';

describe('the results.json schema', () => {
  it('is published as schemas/results.schema.json, generated from the zod schema', async () => {
    const checkedIn = await readFile(RESULTS_JSON_SCHEMA_PATH, 'utf8');
    const generated = resultsJsonSchemaText();
    if (checkedIn !== generated) {
      expect.fail('schemas/results.schema.json is stale: run `npm run schema` and commit the result');
    }
    const schema = JSON.parse(checkedIn);
    expect(schema.properties.schemaVersion).toEqual({ type: 'number', const: 2 });
    expect(schema.$defs.ClaimResult.properties.unit.enum).toEqual([
      'ratio',
      'factor',
      'ms',
      's',
      'count',
      'perSecond',
    ]);
    // The doc comments travel with the schema.
    expect(schema.$defs.PhaseSummary.properties.successRate.description).toBe(
      'ok / completed, 0..1; null when nothing completed.',
    );
  });

  it('accepts the report fixture as it is', () => {
    const fixture = makeReportResults();
    expect(runResultsSchema.parse(fixture)).toEqual(fixture);
  });
});
