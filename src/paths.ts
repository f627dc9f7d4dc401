import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The project's root directory (where package.json lives), whether running from src/ via ts-node or from dist/. */
export const PROJECT_ROOT: string = findRoot(__dirname);

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'supportbot') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the supportbot package root above ${start}`);
    dir = parent;
  }
}

export function projectPath(...parts: string[]): string {
  return join(PROJECT_ROOT, ...parts);
}
