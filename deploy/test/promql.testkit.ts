/**
 * Reading metric names out of PromQL and out of Prometheus's text format, for the test that
 * checks the shipped alerts and dashboard against what the apps really export. Not a PromQL
 * parser: enough of its lexical rules for the expressions we write, which Prometheus itself
 * checks elsewhere (promtool for the alerts, the e2e test for the dashboard's queries).
 */

/** A metric a PromQL expression reads, with the label names its matchers use. */
export interface MetricUse {
  name: string;
  labels: string[];
}

/** Keywords, operators and aggregations (`sum by (queue) (…)`): identifiers that are no metric. */
const KEYWORDS = new Set([
  ...['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'atan2'],
  ...['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values'],
  ...['bottomk', 'topk', 'quantile'],
]);
/** Modifiers followed by a list of label names in parentheses. */
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

const IDENTIFIER = /[A-Za-z_:][A-Za-z0-9_:]*/y;
const NUMBER = /(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)[a-z]*/y;
const MATCHER = /([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g;

/** Index just past the bracket that closes the one at `open` (`(` or `{`). */
function closing(text: string, open: number): number {
  const pair = text[open] === '(' ? ['(', ')'] : ['{', '}'];
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === pair[0]) depth++;
    else if (text[i] === pair[1] && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced ${pair[0]} in: ${text}`);
}

/**
 * The metrics an expression (or a Grafana target's expression) reads: strings, Grafana
 * variables ($queue, ${datasource}, [$__rate_interval]), ranges, functions, keywords and
 * label lists (`by (queue)`) are not metrics.
 */
export function metricsIn(expr: string): MetricUse[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\$\{[^}]*\}|\$\w+/g, '')
    .replace(/\[[^\]]*\]/g, '');
  const found: MetricUse[] = [];
  let i = 0;
  while (i < text.length) {
    NUMBER.lastIndex = i;
    IDENTIFIER.lastIndex = i;
    const number = /[0-9.]/.test(text[i] ?? '') ? NUMBER.exec(text) : null;
    if (number) {
      i += number[0].length;
      continue;
    }
    const word = IDENTIFIER.exec(text)?.[0];
    if (!word) {
      i++;
      continue;
    }
    i += word.length;
    const next = i + (/^\s*/.exec(text.slice(i))?.[0].length ?? 0);
    if (LABEL_LISTS.has(word)) {
      if (text[next] === '(') i = closing(text, next);
      continue;
    }
    if (text[next] === '(' || KEYWORDS.has(word.toLowerCase())) continue; // a function, or a keyword
    const labels: string[] = [];
    if (text[next] === '{') {
      const end = closing(text, next);
      for (const match of text.slice(next, end).matchAll(MATCHER)) labels.push(match[1] as string);
      i = end;
    }
    found.push({ name: word, labels });
  }
  return found;
}

/** The metric of a Grafana variable's `label_values(metric, label)` query. */
export function metricOfLabelValues(query: string): string | undefined {
  return /label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,/.exec(query)?.[1];
}

/** A metric family as an app exports it. */
export interface Family {
  type: string;
  /** Label names seen on its samples (`le` included for histograms). */
  labels: Set<string>;
  samples: number;
}

/** The names a family's samples go by: histograms and summaries add suffixed series. */
export function seriesNames(name: string, family: Family): string[] {
  if (family.type === 'histogram') return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
  if (family.type === 'summary') return [name, `${name}_sum`, `${name}_count`];
  return [name];
}

/** The families of a `/metrics` answer (Prometheus text format 0.0.4), by name. */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const owner = new Map<string, Family>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const family: Family = { type: type[2] as string, labels: new Set(), samples: 0 };
      families.set(type[1] as string, family);
      for (const series of seriesNames(type[1] as string, family)) owner.set(series, family);
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') continue;
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{.*\})?\s/.exec(line);
    const family = sample && owner.get(sample[1] as string);
    if (!family) continue;
    family.samples++;
    for (const match of (sample[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g)) {
      family.labels.add(match[1] as string);
    }
  }
  return families;
}
