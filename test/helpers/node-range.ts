// Whether a package's `engines.node` range admits a Node version: the subset of semver ranges that
// npm packages write there (>=, >, <, <=, =, ^, ~, x-ranges, hyphen ranges, ||). For the shrinkwrap check.

const parse = (text: string): number[] => {
  const m = /^v?(\d+|x|X|\*)(?:\.(\d+|x|X|\*))?(?:\.(\d+|x|X|\*))?/.exec(text);
  if (!m) throw new Error(`not a version: "${text}"`);
  // Given parts as numbers; a wildcard or a missing part ends the version (a partial version).
  const parts: number[] = [];
  for (const p of m.slice(1)) {
    if (p === undefined || /^[xX*]$/.test(p)) break;
    parts.push(Number(p));
  }
  return parts;
};

const compare = (a: number[], b: number[]) => {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
};

/** The first version past a partial one: 20 -> 21.0.0, 20.1 -> 20.2.0. */
const next = (parts: number[]) => {
  const n = [...parts];
  n[n.length - 1] += 1;
  return n;
};

function comparator(token: string, v: number[]): boolean {
  const m = /^(<=|>=|<|>|=|\^|~)?(.*)$/.exec(token)!;
  const op = m[1] ?? '';
  const parts = parse(m[2]);
  if (parts.length === 0) return op !== '<' && op !== '>';
  const full = parts.length === 3;
  switch (op) {
    case '>=':
      return compare(v, parts) >= 0;
    case '>':
      return full ? compare(v, parts) > 0 : compare(v, next(parts)) >= 0;
    case '<':
      return compare(v, parts) < 0;
    case '<=':
      return full ? compare(v, parts) <= 0 : compare(v, next(parts)) < 0;
    case '^': {
      const lead = parts.findIndex((p) => p !== 0);
      const upto = lead === -1 || lead >= parts.length ? parts : parts.slice(0, lead + 1);
      return compare(v, parts) >= 0 && compare(v, next(upto)) < 0;
    }
    case '~':
      return compare(v, parts) >= 0 && compare(v, next(parts.slice(0, Math.min(2, parts.length)))) < 0;
    default:
      return full ? compare(v, parts) === 0 : compare(v, parts) >= 0 && compare(v, next(parts)) < 0;
  }
}

/** Does `range` (an engines.node value) admit `version` (e.g. "20.18.1")? */
export function admits(range: string, version: string): boolean {
  const v = parse(version);
  return range.split('||').some((set) => {
    const text = set.trim().replace(/([<>=~^]+)\s+/g, '$1');
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(text);
    if (hyphen) return comparator(`>=${hyphen[1]}`, v) && comparator(`<=${hyphen[2]}`, v);
    return text.split(/\s+/).every((token) => token === '' || comparator(token, v));
  });
}
