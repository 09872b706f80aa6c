import type { RunResults } from '../results.ts';

/** One run in a reports folder, as the runs index and its trends read it. */
export interface RunIndexEntry {
  /** Folder name of the run inside the reports folder. */
  dir: string;
  results: RunResults;
}
