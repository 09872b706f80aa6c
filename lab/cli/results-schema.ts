/**
 * Writes the JSON Schema of results.json to schemas/results.schema.json, generated from the zod schema
 * in lab/results.ts. Run it after changing that schema; a unit test fails while the file is stale.
 *
 *   npm run schema
 */
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../project-root.ts';
import { resultsJsonSchemaText } from '../results.ts';

export const RESULTS_JSON_SCHEMA_PATH = join(PROJECT_ROOT, 'schemas', 'results.schema.json');

if (import.meta.main) {
  await writeFile(RESULTS_JSON_SCHEMA_PATH, resultsJsonSchemaText(), 'utf8');
  console.log(`wrote ${relative(PROJECT_ROOT, RESULTS_JSON_SCHEMA_PATH)}`);
}
