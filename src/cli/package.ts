import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// This file is src/cli/package.ts from source and dist/cli/package.js once built: the root is two up either way.
const ROOT_URL = new URL('../../', import.meta.url);

/** The installed package's folder (the repository when run from source). */
export const PACKAGE_ROOT = fileURLToPath(ROOT_URL);

/** A file shipped with the package, e.g. `examples/two-regions.yaml`, whatever the current folder. */
export const packageFile = (path: string) => fileURLToPath(new URL(path, ROOT_URL));

export function packageVersion(): string {
  const { version } = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string };
  return version;
}
