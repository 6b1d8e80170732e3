/**
 * Reads the Prometheus text exposition format (what `/metrics` serves) into flat samples —
 * one per series, exactly what a Prometheus server ingests: histogram `_bucket`/`_sum`/
 * `_count` lines stay separate series. The aggregator scrapes instances with it, so the
 * console's charts and alerts see the same numbers Prometheus would.
 */

/** One sample: a metric name, its labels and value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseValue(text: string): number {
  // Go's ParseFloat spellings, which Prometheus accepts: +Inf, Inf, -Inf, NaN in any case.
  switch (text.toLowerCase()) {
    case '+inf':
    case 'inf':
      return Number.POSITIVE_INFINITY;
    case '-inf':
      return Number.NEGATIVE_INFINITY;
    case 'nan':
      return Number.NaN;
    default:
      return Number(text);
  }
}

/** Parses `{a="x",b="y\"z"}` starting at `i` (at the brace); returns labels and the index after `}`. */
function parseLabels(line: string, i: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let at = i + 1;
  for (;;) {
    while (line[at] === ' ' || line[at] === ',') at++;
    if (line[at] === '}') return [labels, at + 1];
    const m = NAME.exec(line.slice(at));
    if (!m) throw new SyntaxError(`bad label name at ${at}: ${line}`);
    const key = m[0];
    at += key.length;
    while (line[at] === ' ') at++;
    if (line[at] !== '=') throw new SyntaxError(`expected ="…" at ${at}: ${line}`);
    at++;
    while (line[at] === ' ') at++;
    if (line[at] !== '"') throw new SyntaxError(`expected a quoted value at ${at}: ${line}`);
    at++;
    let value = '';
    for (;;) {
      const c = line[at];
      if (c === undefined) throw new SyntaxError(`unterminated label value: ${line}`);
      if (c === '"') break;
      if (c === '\\') {
        const n = line[at + 1];
        value += n === 'n' ? '\n' : (n ?? '');
        at += 2;
        continue;
      }
      value += c;
      at++;
    }
    labels[key] = value;
    at++;
  }
}

/**
 * Parses an exposition. Comment and blank lines are skipped; timestamps are ignored.
 *
 * Throws `SyntaxError` naming the line for a malformed sample.
 *
 * @example
 * ```ts
 * parseExposition('up{job="a"} 1\n'); // [{ name: 'up', labels: { job: 'a' }, value: 1 }]
 * ```
 */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = NAME.exec(line);
    if (!m) throw new SyntaxError(`bad metric name: ${line}`);
    let at = m[0].length;
    let labels: Record<string, string> = {};
    if (line[at] === '{') [labels, at] = parseLabels(line, at);
    const [text = ''] = line.slice(at).trim().split(/\s+/);
    const value = parseValue(text);
    // Number('') is 0: an empty value is an error, not a zero.
    if (text === '' || (Number.isNaN(value) && text.toLowerCase() !== 'nan'))
      throw new SyntaxError(`bad sample value: ${line}`);
    out.push({ name: m[0], labels, value });
  }
  return out;
}

/** Writes samples back in the exposition format (label values escaped). */
export function formatSeries(sample: Pick<Sample, 'name' | 'labels'>): string {
  const labels = Object.entries(sample.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
  return labels ? `${sample.name}{${labels}}` : sample.name;
}
