import { Dirent } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { LogStore, WriteItem } from './log-store';
import { createParser, FileParser, Malformed, ParsedEvent } from './nlog-parser';
import { readLines } from './line-reader';
import { SourceConfig, sourceFor, SourcesConfig } from './sources';
import { sourceOf } from './log-event';

export interface IngestReport {
  /** Files read. */
  files: number;
  /** Events parsed. */
  events: number;
  /** Events new to the store. */
  added: number;
  /** Lines, events and files that could not be ingested, with `path:line` (or just `path` for a whole file) and why. */
  malformed: Malformed[];
  /** Paths that could not be read at all (the command exits non-zero). */
  unreadable: string[];
}

/** A file to read, with the root its provenance is relative to. */
export interface FileTarget {
  absolute: string;
  root: string;
  relPath: string;
}

export const DEFAULT_BATCH_SIZE = 10000;

/** Turns the paths given on the command line into files (directories are walked, sorted, dot files skipped). */
export async function resolveTargets(paths: string[], report: Pick<IngestReport, 'malformed' | 'unreadable'>): Promise<FileTarget[]> {
  const out: FileTarget[] = [];
  for (const given of paths) {
    const absolute = resolve(given);
    let info;
    try {
      info = await stat(absolute);
    } catch (err) {
      report.unreadable.push(given);
      report.malformed.push({ source: given, reason: describeFsError(err) });
      continue;
    }
    if (info.isDirectory()) {
      for (const file of await walk(absolute, report)) out.push({ absolute: file, root: absolute, relPath: toRel(absolute, file) });
    } else if (info.isFile()) {
      out.push({ absolute, root: dirname(absolute), relPath: basename(absolute) });
    } else {
      report.unreadable.push(given);
      report.malformed.push({ source: given, reason: 'not a file or directory' });
    }
  }
  return out;
}

function toRel(root: string, file: string): string {
  return relative(root, file).split(sep).join('/');
}

async function walk(dir: string, report: Pick<IngestReport, 'malformed' | 'unreadable'>, root = dir): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const rel = toRel(root, dir) || dir;
    report.unreadable.push(dir);
    report.malformed.push({ source: rel, reason: describeFsError(err) });
    return [];
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    let kind: Dirent | Awaited<ReturnType<typeof stat>> = entry;
    if (entry.isSymbolicLink()) {
      try {
        kind = await stat(full);
      } catch (err) {
        report.unreadable.push(full);
        report.malformed.push({ source: toRel(root, full), reason: describeFsError(err) });
        continue;
      }
    }
    if (kind.isDirectory()) out.push(...(await walk(full, report, root)));
    else if (kind.isFile()) out.push(full);
  }
  return out;
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'cannot read: permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return `cannot read: ${code ?? (err as Error).message}`;
  }
}

/** Decides the format of a file whose source says `auto`: JSON when the first non-blank line is an object. */
export async function detectFormat(path: string): Promise<'nlog-json' | 'nlog-text'> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const head = buf.toString('utf8', 0, bytesRead).replace(/^\uFEFF/, '').trimStart();
    return head.startsWith('{') ? 'nlog-json' : 'nlog-text';
  } finally {
    await handle.close();
  }
}

/** Finds the source of a file and makes its parser; undefined (and a report entry) when no source matches. */
export async function parserFor(
  target: FileTarget,
  sources: SourcesConfig,
  malformed: Malformed[],
): Promise<{ parser: FileParser; source: SourceConfig } | undefined> {
  const match = sourceFor(sources, target.absolute);
  if (!match) {
    malformed.push({ source: target.relPath, reason: `no source in ${sources.file} matches this file; not ingested` });
    return undefined;
  }
  const format = match.source.format === 'auto' ? await detectFormat(target.absolute) : match.source.format;
  return { parser: createParser(format, { source: match.source, groups: match.groups, relPath: target.relPath }), source: match.source };
}

/**
 * Writes parsed events to the store in batches, at most two in flight while the next is parsed
 * (one being written, one queued so the store never waits for us): the store's pace
 * (Elasticsearch back-pressure) sets the pace of reading.
 */
export class BatchWriter {
  private batch: WriteItem[] = [];
  private inflight: Promise<void>[] = [];
  added = 0;
  events = 0;

  constructor(
    private readonly store: LogStore,
    private readonly malformed: Malformed[],
    private readonly batchSize = DEFAULT_BATCH_SIZE,
  ) {}

  async push(events: ParsedEvent[]): Promise<void> {
    for (const e of events) {
      this.batch.push({ id: e.id, event: e.event });
      this.events++;
      if (this.batch.length >= this.batchSize) await this.send();
    }
  }

  private async send(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    if (this.inflight.length >= 2) await this.inflight.shift();
    if (!batch.length) return;
    const written = this.store.write(batch).then((result) => {
      this.added += result.added;
      if (result.rejected?.length) {
        const byId = new Map(batch.map((item) => [item.id, item.event]));
        for (const r of result.rejected) {
          const event = byId.get(r.id);
          this.malformed.push({ source: event ? sourceOf(event) : r.id, reason: `rejected by the store: ${r.reason}` });
        }
      }
    });
    // A failure surfaces when this write is awaited; until then it must not count as unhandled.
    written.catch(() => undefined);
    this.inflight.push(written);
  }

  /** Sends what is left and waits until the store has everything. */
  async drain(): Promise<void> {
    await this.send();
    while (this.inflight.length) await this.inflight.shift();
  }
}

/** Ingests files once. Idempotent: event ids come from provenance, so a second run adds nothing. */
export async function ingestPaths(
  paths: string[],
  deps: { store: LogStore; sources: SourcesConfig; batchSize?: number },
): Promise<IngestReport> {
  const report: IngestReport = { files: 0, events: 0, added: 0, malformed: [], unreadable: [] };
  const targets = await resolveTargets(paths, report);
  const writer = new BatchWriter(deps.store, report.malformed, deps.batchSize);
  for (const target of targets) {
    let made;
    try {
      made = await parserFor(target, deps.sources, report.malformed);
    } catch (err) {
      report.unreadable.push(target.absolute);
      report.malformed.push({ source: target.relPath, reason: describeFsError(err) });
      continue;
    }
    if (!made) continue;
    const { parser } = made;
    let read = false;
    try {
      for await (const line of readLines(target.absolute)) {
        read = true;
        parser.feed(line);
        const out = parser.take();
        report.malformed.push(...out.malformed);
        if (out.events.length) await writer.push(out.events);
      }
      read = true;
    } catch (err) {
      // Keep what was read before the failure; say where it stopped.
      report.unreadable.push(target.absolute);
      report.malformed.push({ source: target.relPath, reason: describeFsError(err) });
    }
    parser.flush();
    const out = parser.take();
    report.malformed.push(...out.malformed);
    await writer.push(out.events);
    if (read) report.files++;
  }
  await writer.drain();
  await deps.store.refresh();
  report.events = writer.events;
  report.added = writer.added;
  return report;
}
