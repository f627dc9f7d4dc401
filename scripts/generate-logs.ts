/**
 * Scales the Contoso sample to any size for benchmarks: copies of the five days, each shifted by
 * whole weeks (file names and timestamps move together), until the target number of lines.
 *
 *   node dist/scripts/generate-logs.js --lines 1000000 --out /tmp/contoso-1m
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectPath } from '../src/paths';

const DAY = 86_400_000;

function shiftDate(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.log') ? [join(dir, e.name)] : [],
  );
}

export interface Generated {
  dir: string;
  lines: number;
  files: number;
}

/** Writes copies of the sample into `out` until at least `lines` lines; reuses a previous run's output. */
export function generateLogs(lines: number, out: string, source = projectPath('samples', 'contoso', 'logs')): Generated {
  const marker = join(out, `.generated-${lines}`);
  if (existsSync(marker)) return JSON.parse(readFileSync(marker, 'utf8')) as Generated;
  const originals = files(source).sort().map((path) => ({ rel: relative(source, path), text: readFileSync(path, 'utf8') }));
  let written = 0;
  let count = 0;
  for (let copy = 0; written < lines; copy++) {
    const days = copy * 7;
    for (const { rel, text } of originals) {
      if (written >= lines) break;
      const date = /(\d{4}-\d{2}-\d{2})\.log$/.exec(rel)![1]!;
      const shifted = shiftDate(date, days);
      let body = text.split(date).join(shifted);
      let n = body.split('\n').length - 1;
      if (written + n > lines) {
        body = body.split('\n').slice(0, lines - written).join('\n') + '\n';
        n = lines - written;
      }
      const target = join(out, rel.replace(`${date}.log`, `${shifted}.log`));
      mkdirSync(join(target, '..'), { recursive: true });
      writeFileSync(target, body);
      written += n;
      count++;
    }
  }
  const result = { dir: out, lines: written, files: count };
  writeFileSync(marker, JSON.stringify(result));
  return result;
}

if (require.main === module) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1]! : fallback;
  };
  const result = generateLogs(Number(arg('lines', '1000000')), arg('out', join(process.cwd(), 'generated-logs')));
  process.stdout.write(`${result.lines} lines in ${result.files} files under ${result.dir}\n`);
}
