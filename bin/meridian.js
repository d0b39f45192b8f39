#!/usr/bin/env node
// Runs the built CLI. `npm ci` builds dist/ through the prepare script.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(built))) {
  process.stderr.write('meridian: dist/ is missing; run `npm ci` (or `npm run build`) first\n');
  process.exit(1);
}
await import(built.href);
