import { readFileSync } from 'node:fs';
import { isMap, isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { MeridianError } from '../errors.js';
import { configSchema, type MeridianConfig } from './schema/index.js';

export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  /** Path inside the document, e.g. "regions[1].capacity". */
  path: string;
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path || '(document)'}: ${p.message}`;
}

function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`))
    .join('');
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined'))
    return `missing: expected ${issue.expected}`;
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    return issue.message;
  }
  return issue.message.replace(/^Invalid input: /, '');
}

/** Parses and validates YAML text; every problem carries its line and path. */
export function parseConfigText(
  text: string,
  file: string,
): { config?: MeridianConfig; problems: ConfigProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number) => lineCounter.linePos(offset);
  const problems: ConfigProblem[] = [];
  for (const err of doc.errors) {
    const { line, col } = at(err.pos[0]);
    problems.push({
      file,
      line,
      column: col,
      path: '',
      message: `YAML syntax: ${err.message.split('\n')[0]}`,
    });
  }
  if (problems.length > 0) return { problems };

  const result = configSchema.safeParse(doc.toJS({ maxAliasCount: 100 }) ?? {});
  if (result.success) return { config: result.data, problems };
  for (const issue of result.error.issues) {
    // Point at the deepest node that exists: a missing key points at its parent.
    let path = issue.path as (string | number)[];
    if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path = [...path, issue.keys[0]];
    let node: unknown;
    for (let n = path.length; n >= 0; n--) {
      const parent = n > 0 ? doc.getIn(path.slice(0, n - 1), true) : undefined;
      if (issue.code === 'unrecognized_keys' && n === path.length && isMap(parent)) {
        // For an unknown key, point at the key itself rather than its value.
        const pair = parent.items.find(
          (p) => isNode(p.key) && (p.key as { value?: unknown }).value === path[n - 1],
        );
        if (pair && isNode(pair.key)) {
          node = pair.key;
          break;
        }
      }
      node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) break;
    }
    const offset = isNode(node) && node.range ? node.range[0] : 0;
    const { line, col } = at(offset);
    problems.push({ file, line, column: col, path: pathText(path), message: issueMessage(issue) });
  }
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { problems };
}

/** Reads and validates a config file or throws CONFIG_INVALID / CONFIG_UNREADABLE naming every problem. */
export function loadConfig(file: string): MeridianConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MeridianError(
      'CONFIG_UNREADABLE',
      `${file}: ${(e as NodeJS.ErrnoException).code ?? 'cannot read'}: ${(e as Error).message}`,
    );
  }
  const { config, problems } = parseConfigText(text, file);
  if (!config) {
    throw new MeridianError(
      'CONFIG_INVALID',
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      problems.map(formatProblem),
    );
  }
  return config;
}
