import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root: where services/, scenarios/, reports/ and .lab/ live. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
