// The Prometheus naming and exposition rules (those `promtool check metrics`
// applies, plus Meridian's own), as a checker over /metrics text: returns the
// problems found, none when the text follows every rule.

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SNAKE_NAME = /^[a-z_:][a-z0-9_:]*$/;
const LABEL = /^[a-z_][a-z0-9_]*$/;
const SAMPLE = /^([^\s{]+)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL_PAIR = /\s*([^=\s]+)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
/** Units that have a base unit Prometheus wants instead. */
const NON_BASE_UNITS =
  /(^|_)(ms|msec|millis|milliseconds|us|usec|microseconds|ns|nanoseconds|minutes|hours|days|kb|mb|gb|kilobytes|megabytes|percent|pct)(_|$)/;
const RESERVED_SUFFIX = /_(bucket|sum|count)$|_bucket_/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export interface Sample {
  name: string;
  labels: Map<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help?: string;
  type?: string;
  samples: Sample[];
}

/** Parses the text format; problems of form (bad lines, split families) go to `problems`. */
export function parseExposition(text: string, problems: string[] = []): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | null = null;
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) {
      f = { name, samples: [] };
      families.set(name, f);
    } else if (current !== f) problems.push(`${name}: family is split (its lines are not together)`);
    current = f;
    return f;
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (meta) {
      const f = family(meta[2]);
      if (meta[1] === 'HELP') f.help = meta[3] ?? '';
      else {
        if (f.type !== undefined) problems.push(`${f.name}: TYPE given twice`);
        if (f.samples.length > 0) problems.push(`${f.name}: TYPE after its samples`);
        f.type = meta[3];
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) {
      problems.push(`bad line: ${line}`);
      continue;
    }
    const labels = parseLabels(m[2] ?? '', problems, line);
    const value = parseValue(m[3]);
    if (Number.isNaN(value) && !/^nan$/i.test(m[3])) problems.push(`bad value: ${line}`);
    family(familyOf(m[1], current, families)).samples.push({ name: m[1], labels, value });
  }
  return families;
}

/** Every problem with the exposition text; empty when it follows the rules. */
export function checkExposition(text: string): string[] {
  const problems: string[] = [];
  const families = parseExposition(text, problems);
  for (const f of families.values()) problems.push(...checkFamily(f));
  return problems;
}

/** Meridian's conventions on top: build_info and the process metrics every daemon exports. */
export function checkMeridianExposition(text: string, daemon: string): string[] {
  const problems = checkExposition(text);
  const families = parseExposition(text);
  const info = families.get('meridian_build_info')?.samples ?? [];
  if (!info.some((s) => s.value === 1 && s.labels.get('daemon') === daemon && s.labels.get('version')))
    problems.push(`meridian_build_info{daemon="${daemon}",version=...} 1 is missing`);
  for (const name of [
    'process_resident_memory_bytes',
    'nodejs_heap_size_used_bytes',
    'meridian_nodejs_heap_used_after_major_gc_bytes',
    'process_open_fds',
  ]) {
    if (!families.get(name)?.samples.length) problems.push(`${name} is missing`);
  }
  return problems;
}

function checkFamily(f: Family): string[] {
  const p: string[] = [];
  const say = (what: string) => p.push(`${f.name}: ${what}`);
  if (!NAME.test(f.name)) say('invalid metric name');
  else if (!SNAKE_NAME.test(f.name)) say('name is not snake_case');
  if (!f.help) say('no HELP text');
  if (f.type === undefined) say('no TYPE');
  else if (!TYPES.has(f.type)) say(`unknown TYPE ${f.type}`);
  if (NON_BASE_UNITS.test(f.name)) say('unit is not a base unit (use seconds, bytes, ratio)');
  if (/(duration|latency)/.test(f.name) && !/_seconds(_|$)/.test(f.name)) say('a duration is in _seconds');
  if (f.type === 'counter' && !f.name.endsWith('_total')) say('counter name does not end in _total');
  if (f.type !== 'counter' && f.name.endsWith('_total')) say('only counters end in _total');
  if (RESERVED_SUFFIX.test(f.name)) say('name uses a suffix reserved for histograms (_bucket, _sum, _count)');
  const seen = new Set<string>();
  for (const s of f.samples) {
    for (const label of s.labels.keys()) {
      if (!LABEL.test(label) || label.startsWith('__')) say(`label ${label} is not snake_case`);
    }
    const key = `${s.name}{${[...s.labels].map(([k, v]) => `${k}=${v}`).join(',')}}`;
    if (seen.has(key)) say(`duplicate series ${key}`);
    seen.add(key);
    if (f.type === 'counter' && !(s.value >= 0)) say(`counter value ${s.value} is not >= 0`);
    if (f.name.endsWith('_ratio') && !(s.value >= 0 && s.value <= 1)) say(`ratio ${s.value} is outside 0..1`);
    if (f.type !== 'histogram' && s.labels.has('le')) say('le label outside a histogram');
  }
  if (f.type === 'histogram') p.push(...checkHistogram(f));
  else {
    for (const s of f.samples) if (s.name !== f.name) say(`sample ${s.name} does not belong to the family`);
  }
  return p;
}

function checkHistogram(f: Family): string[] {
  const p: string[] = [];
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const rest = [...s.labels].filter(([k]) => k !== 'le');
    const key = rest.map(([k, v]) => `${k}=${v}`).join(',');
    const one = series.get(key) ?? { buckets: [] };
    series.set(key, one);
    if (s.name === `${f.name}_bucket`) {
      const le = s.labels.get('le');
      if (le === undefined) p.push(`${f.name}{${key}}: bucket without le`);
      else one.buckets.push([parseValue(le), s.value]);
    } else if (s.name === `${f.name}_sum`) one.sum = s.value;
    else if (s.name === `${f.name}_count`) one.count = s.value;
    else p.push(`${f.name}: sample ${s.name} is not _bucket, _sum or _count`);
  }
  for (const [key, h] of series) {
    const at = `${f.name}{${key}}`;
    if (h.sum === undefined) p.push(`${at}: no _sum`);
    if (h.count === undefined) p.push(`${at}: no _count`);
    const sorted = [...h.buckets].sort((a, b) => a[0] - b[0]);
    const inf = sorted.at(-1);
    if (!inf || inf[0] !== Number.POSITIVE_INFINITY) p.push(`${at}: no le="+Inf" bucket`);
    else if (h.count !== undefined && inf[1] !== h.count) p.push(`${at}: +Inf bucket differs from _count`);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i][1] < sorted[i - 1][1]) p.push(`${at}: buckets are not cumulative at le=${sorted[i][0]}`);
    }
  }
  return p;
}

/** The family a sample belongs to: its own name, or the histogram/summary it is a part of. */
function familyOf(sample: string, current: Family | null, families: Map<string, Family>): string {
  if (families.has(sample)) return sample;
  const base = sample.replace(/_(bucket|sum|count)$/, '');
  const f = families.get(base);
  if (f && (f.type === 'histogram' || f.type === 'summary')) return base;
  return current && sample.startsWith(current.name) ? current.name : sample;
}

function parseLabels(text: string, problems: string[], line: string): Map<string, string> {
  const labels = new Map<string, string>();
  LABEL_PAIR.lastIndex = 0;
  while (LABEL_PAIR.lastIndex < text.length) {
    const m = LABEL_PAIR.exec(text);
    if (!m) {
      problems.push(`bad labels: ${line}`);
      break;
    }
    if (labels.has(m[1])) problems.push(`label ${m[1]} given twice: ${line}`);
    labels.set(m[1], m[2]);
    if (m[3] === '') break;
  }
  return labels;
}

/** Go's ParseFloat, which Prometheus uses, takes NaN and Inf in any case (prom-client writes `Nan`). */
function parseValue(text: string): number {
  if (/^\+?inf$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf$/i.test(text)) return Number.NEGATIVE_INFINITY;
  return text.trim() === '' ? Number.NaN : Number(text);
}
