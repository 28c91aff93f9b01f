/** Where the project's files are, from the compiled CLI's point of view. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The repository (package) root: the folder holding package.json and nats.conf. */
export const PACKAGE_ROOT = findRoot(here);

/** The compiled CLI entry point (dist/bin/nesos.js). */
export const NESOS_BIN = join(PACKAGE_ROOT, 'dist', 'bin', 'nesos.js');

/** The NATS configuration shipped at the top level. */
export const NATS_CONF = join(PACKAGE_ROOT, 'nats.conf');

function findRoot(start: string): string {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'nats.conf'))) return dir;
    dir = resolve(dir, '..');
  }
  return resolve(start, '..', '..');
}
