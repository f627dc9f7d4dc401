import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../engine';
import { BatchWriter, describeFsError, FileTarget, parserFor, resolveTargets } from './ingest';
import { readLines, ReadFrom } from './line-reader';
import { LogStore } from './log-store';
import { FileParser, Malformed } from './nlog-parser';
import { SourcesConfig } from './sources';

/** What one pass over the followed files did. */
export interface FollowReport {
  files: number;
  events: number;
  added: number;
  malformed: Malformed[];
}

interface Saved {
  root: string;
  relPath: string;
  offset: number;
  lineNo: number;
  head: string;
  headLength: number;
}

const HEAD_BYTES = 256;

/**
 * Where reading of each followed file resumes, kept in SQLite next to the data (like Filebeat's
 * registry). Keyed by file identity (device and inode), so a renamed (rotated) file keeps its place.
 * A position is saved only after the events before it are in the store.
 */
export class OffsetRegistry {
  private readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(join(file, '..'), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS offsets (
      identity TEXT PRIMARY KEY, root TEXT NOT NULL, rel_path TEXT NOT NULL, offset INTEGER NOT NULL,
      line_no INTEGER NOT NULL, head TEXT NOT NULL, head_length INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
  }

  get(identity: string): Saved | undefined {
    const row = this.db.prepare('SELECT * FROM offsets WHERE identity = ?').get(identity) as Record<string, string | number> | undefined;
    if (!row) return undefined;
    return {
      root: row.root as string, relPath: row.rel_path as string, offset: row.offset as number, lineNo: row.line_no as number,
      head: row.head as string, headLength: row.head_length as number,
    };
  }

  save(entries: [string, Saved][]): void {
    const put = this.db.prepare(`INSERT INTO offsets VALUES (@identity, @root, @relPath, @offset, @lineNo, @head, @headLength, @now)
      ON CONFLICT(identity) DO UPDATE SET root = @root, rel_path = @relPath, offset = @offset, line_no = @lineNo, head = @head,
      head_length = @headLength, updated_at = @now`);
    const now = Date.now();
    this.db.transaction(() => {
      for (const [identity, s] of entries) put.run({ identity, ...s, now });
    })();
  }

  remove(identity: string): void {
    this.db.prepare('DELETE FROM offsets WHERE identity = ?').run(identity);
  }

  close(): void {
    this.db.close();
  }
}

interface Followed {
  identity: string;
  target: FileTarget;
  parser: FileParser;
  readFrom: ReadFrom;
  head: string;
  headLength: number;
  lastGrowth: number;
  dirty: boolean;
}

async function headOf(path: string, length: number): Promise<{ head: string; headLength: number }> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, 0);
    return { head: createHash('sha1').update(buf.subarray(0, bytesRead)).digest('hex'), headLength: bytesRead };
  } finally {
    await handle.close();
  }
}

export interface FollowerOptions {
  /** An event whose file has not grown for this long is complete (its stack trace written). Default 500 ms. */
  multilineTimeoutMs?: number;
  now?: () => number;
}

/**
 * Tails files like Filebeat: appended lines, new files, rotation (rename) and truncation. Call
 * `tick()` repeatedly; each call reads what is new, writes it to the store and then saves the
 * positions, so a restart neither loses nor repeats a line (ids make a re-read event a no-op).
 */
export class Follower {
  private readonly files = new Map<string, Followed>();
  private readonly ignored = new Set<string>();
  private readonly reported = new Set<string>();
  private readonly multilineTimeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly paths: string[],
    private readonly store: LogStore,
    private readonly sources: SourcesConfig,
    private readonly registry: OffsetRegistry,
    options: FollowerOptions = {},
  ) {
    this.multilineTimeoutMs = options.multilineTimeoutMs ?? 500;
    this.now = options.now ?? Date.now;
  }

  /** Reads what is new. `final`: the last pass before stopping, which completes every open event. */
  async tick(final = false): Promise<FollowReport> {
    const report: FollowReport = { files: 0, events: 0, added: 0, malformed: [] };
    const found = { malformed: [] as Malformed[], unreadable: [] as string[] };
    const targets = await resolveTargets(this.paths, found);
    // A path that is missing now may appear later: say so once, keep following the others.
    for (const m of found.malformed) {
      if (!this.reported.has(m.source)) report.malformed.push({ ...m, reason: `${m.reason} (still watching)` });
      this.reported.add(m.source);
    }
    const writer = new BatchWriter(this.store, report.malformed);
    const seen = new Set<string>();
    for (const target of targets) {
      let info;
      try {
        info = await stat(target.absolute);
      } catch {
        continue; // removed between listing and stat
      }
      const identity = `${info.dev}:${info.ino}`;
      seen.add(identity);
      if (this.ignored.has(identity)) continue;
      let file = this.files.get(identity);
      try {
        if (!file) {
          file = await this.open(identity, target, info.size, report.malformed);
          if (!file) continue;
        }
        if (info.size < file.readFrom.offset) {
          // Truncated (copytruncate rotation): a new generation of the file starts at the top.
          file = (await this.open(identity, target, info.size, report.malformed, true))!;
        }
        if (info.size > file.readFrom.offset) {
          for await (const line of readLines(target.absolute, file.readFrom, false)) {
            file.parser.feed(line);
            file.readFrom = { offset: line.endOffset, lineNo: line.lineNo + 1 };
          }
          file.lastGrowth = this.now();
          file.dirty = true;
          if (file.headLength < HEAD_BYTES) Object.assign(file, await headOf(target.absolute, HEAD_BYTES));
        }
        if (file.parser.hasUnemitted() && (final || this.now() - file.lastGrowth >= this.multilineTimeoutMs)) {
          file.parser.flush();
          file.dirty = true;
        }
      } catch (err) {
        report.malformed.push({ source: target.relPath, reason: describeFsError(err) });
        continue;
      }
      const out = file.parser.take();
      report.malformed.push(...out.malformed);
      await writer.push(out.events);
      report.files++;
    }
    for (const [identity, file] of this.files) {
      if (seen.has(identity)) continue;
      // Gone (deleted, or rotated out of the followed paths): what was read is kept, the position dropped.
      file.parser.flush();
      await writer.push(file.parser.take().events);
      this.files.delete(identity);
      this.registry.remove(identity);
    }
    await writer.drain();
    report.events = writer.events;
    report.added = writer.added;
    const changed = [...this.files.values()].filter((f) => f.dirty);
    this.registry.save(
      changed.map((f) => {
        f.dirty = false;
        const at = f.parser.resumePoint();
        return [f.identity, { root: f.target.root, relPath: f.target.relPath, offset: at.offset, lineNo: at.lineNo, head: f.head, headLength: f.headLength }];
      }),
    );
    return report;
  }

  private async open(identity: string, target: FileTarget, size: number, malformed: Malformed[], truncated = false): Promise<Followed | undefined> {
    const made = await parserFor(target, this.sources, malformed);
    if (!made) {
      this.ignored.add(identity);
      return undefined;
    }
    const { head, headLength } = await headOf(target.absolute, HEAD_BYTES);
    let from: ReadFrom = { offset: 0, lineNo: 1 };
    const saved = truncated ? undefined : this.registry.get(identity);
    if (saved && saved.offset <= size && saved.headLength <= headLength) {
      const now = await headOf(target.absolute, saved.headLength);
      // Same inode and same first bytes: the file we were reading. Otherwise the inode was reused.
      if (now.head === saved.head) from = { offset: saved.offset, lineNo: saved.lineNo };
    }
    made.parser.resumeAt(from);
    const file: Followed = { identity, target, parser: made.parser, readFrom: from, head, headLength, lastGrowth: this.now(), dirty: true };
    this.files.set(identity, file);
    return file;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

export interface FollowPathsOptions {
  pollMs?: number;
  multilineTimeoutMs?: number;
  onBatch?: (report: FollowReport) => void;
  onMalformed?: (m: Malformed) => void;
  signal?: AbortSignal;
}

/** Follows paths until SIGINT/SIGTERM (or the signal): the `ingest --follow` command. */
export async function followPaths(engine: Engine, paths: string[], options: FollowPathsOptions = {}): Promise<void> {
  const registry = new OffsetRegistry(join(engine.config.dataDir, 'ingest-offsets.db'));
  const follower = new Follower(paths, engine.logStore, engine.sources, registry, {
    multilineTimeoutMs: options.multilineTimeoutMs ?? 500,
  });
  const controller = new AbortController();
  const stop = () => controller.abort();
  options.signal?.addEventListener('abort', stop);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    while (!controller.signal.aborted) {
      const report = await follower.tick();
      for (const m of report.malformed) options.onMalformed?.(m);
      if (report.events) options.onBatch?.(report);
      await sleep(options.pollMs ?? 250, controller.signal);
    }
    const last = await follower.tick(true);
    if (last.events) options.onBatch?.(last);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    registry.close();
  }
}
