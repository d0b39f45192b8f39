// npm run bench -- NAME [args]: runs bench/NAME/index.ts with the remaining arguments.
import { existsSync, readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(new URL('.', import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
if (!name || !available.includes(name)) {
  process.stderr.write(
    `usage: npm run bench -- NAME [--json]\nbenchmarks: ${available.join(', ') || '(none yet)'}\n`,
  );
  process.exit(name ? 1 : 0);
}
const entry = new URL(`./${name}/index.ts`, import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(`bench/${name}/index.ts is missing\n`);
  process.exit(1);
}
process.argv = [process.argv[0], entry.pathname, ...rest];
await import(pathToFileURL(entry.pathname).href);
