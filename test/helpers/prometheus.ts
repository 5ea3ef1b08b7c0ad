/**
 * Reading a `/metrics` scrape with `parse-prometheus-text-format`. That parser folds a histogram's samples into
 * one object and keeps only those without labels, so each scrape is parsed twice: as it is, for the family
 * types, and with the histograms' `# TYPE` lines left out, which makes their `_bucket`, `_sum` and `_count`
 * series plain labelled samples (the parser's own sample-line reading is complete).
 */
import parsePrometheus, { type PrometheusFamily } from 'parse-prometheus-text-format'

export interface Scrape {
  /** Every family as the parser read it (types, help). */
  families: PrometheusFamily[]
  /** The sum of the samples named `name` whose labels include `labels` (0 when there is none). */
  value(name: string, labels?: Record<string, string>): number
  /** Every label set of the samples named `name`. */
  labelSets(name: string): Record<string, string>[]
}

export function readScrape(text: string): Scrape {
  const families = parsePrometheus(text)
  const histograms = new Set(
    families.filter((family) => family.type === 'HISTOGRAM').map((family) => family.name),
  )
  const flat = parsePrometheus(
    text
      .split('\n')
      .filter((line) => !/^# TYPE (\S+) histogram$/.test(line) || !histograms.has(line.split(' ')[2]!))
      .join('\n'),
  )
  const samplesOf = (name: string) =>
    flat.filter((family) => family.name === name).flatMap((family) => family.metrics)
  return {
    families,
    value: (name, labels = {}) =>
      samplesOf(name)
        .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value))
        .reduce((sum, sample) => sum + Number(sample.value ?? 0), 0),
    labelSets: (name) => samplesOf(name).map((sample) => sample.labels ?? {}),
  }
}
