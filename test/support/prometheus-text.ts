import parsePrometheusTextFormat, { type ParsedMetricFamily } from 'parse-prometheus-text-format';

// Reading the Prometheus text format in tests, with parse-prometheus-text-format: it throws on a line that
// is not the format, and gives each family's TYPE, HELP and samples.

export interface PrometheusSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Every metric family of an exposition, by name. Throws on a line that is not the text format. */
export function parseFamilies(text: string): Map<string, ParsedMetricFamily> {
  return new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
}

/**
 * Every sample line as written, labels and all. The library merges the buckets of all of a labelled
 * histogram's series into one set and drops their `_count` and `_sum` (its flattenMetrics keeps only
 * unlabelled ones), so samples are read with the `#` lines removed: each `_bucket`, `_count` and `_sum`
 * line is then a sample of its own.
 */
export function parseSamples(text: string): PrometheusSample[] {
  const bare = text
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n');
  return parsePrometheusTextFormat(bare).flatMap((family) =>
    family.metrics.map((sample) => ({
      name: family.name,
      labels: sample.labels ?? {},
      value: Number(sample.value),
    })),
  );
}

/** The samples named `name` whose labels include every one of `labels`. */
export function samplesOf(
  samples: readonly PrometheusSample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): PrometheusSample[] {
  return samples.filter(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
}

/** The one sample named `name` with these labels; throws when there is none or several. */
export function valueOf(
  samples: readonly PrometheusSample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const found = samplesOf(samples, name, labels);
  if (found.length !== 1) {
    throw new Error(`expected one ${name} ${JSON.stringify(labels)}, found ${found.length}`);
  }
  return (found[0] as PrometheusSample).value;
}
