import Database from 'better-sqlite3';
import { terms } from '../analysis';
import { bucketKey, bucketStart, bucketStarts, offsetSegments } from '../histogram';
import { parseCidr } from '../ip';
import { LogEvent, LogLevel, orderEvent, sourceOf } from '../log-event';
import { Bucket, Hit, LogStore, SearchOptions, SearchResult, StoreUnavailableError, WriteItem, WriteResult } from '../log-store';
import { openDatabase, writeItems } from './sqlite-schema';
import { WriterThread } from './sqlite-writer-thread';
import { Filter, InvalidQueryError, LogQuery, MAX_EXACT_TEXT, MAX_HISTOGRAM_BUCKETS, Shape } from '../../query/log-query';

/** Column of each queryable field. */
const COLUMNS: Record<string, string> = {
  'log.level': 'level',
  'log.logger': 'logger',
  message: 'message',
  'event.dataset': 'dataset',
  'host.name': 'host',
  'user.id': 'user_id',
  'user.name': 'user_name',
  'http.request.method': 'method',
  'http.request.id': 'request_id',
  'http.request.params': 'params_raw',
  'url.path': 'url_path',
  'http.route': 'route',
  'http.response.status_code': 'status',
  'event.duration': 'duration',
  'source.ip': 'ip',
  'error.type': 'error_type',
  'error.message': 'error_message',
  'error.stack_trace': 'stack',
  'document.id': 'document_id',
  'document.type': 'document_type',
  'entity.id': 'entity_id',
  'log.file.path': 'file',
  'log.file.line': 'line',
};

/** Text columns whose values Elasticsearch indexes only up to MAX_EXACT_TEXT characters (`ignore_above`). */
const NUMERIC_COLUMNS = new Set(['status', 'duration', 'line']);

type Row = Record<string, string | number | Buffer | null>;

export interface SqliteLogStoreOptions {
  /** Database file; `:memory:` for a throwaway store. */
  file: string;
  /** Default search timeout in milliseconds. */
  timeoutMs?: number;
  /**
   * Write from a worker thread (default for files): parsing the next batch overlaps with SQLite
   * writing this one, which doubles the ingest rate on two cores.
   */
  writerThread?: boolean;
}

/**
 * The embedded store: one SQLite file, for a single machine and the demo. Answers every LogQuery
 * exactly as the Elasticsearch store does (same phrase analysis, same ordering, same buckets).
 */
export class SqliteLogStore implements LogStore {
  readonly kind = 'sqlite' as const;
  private db: Database.Database | undefined;
  private writer: WriterThread | undefined;
  private deadline = Infinity;
  private readonly timeoutMs: number;

  constructor(private readonly options: SqliteLogStoreOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  private open(): Database.Database {
    if (this.db) return this.db;
    const db = openDatabase(this.options.file);
    // Called only for rows that already matched every other condition: a cheap way to cut a slow query.
    db.function('sb_in_time', { deterministic: false }, () => {
      if (Date.now() >= this.deadline) throw new StoreUnavailableError('query timed out');
      return 1;
    });
    this.db = db;
    return db;
  }

  async init(): Promise<void> {
    this.open();
  }

  async write(items: WriteItem[]): Promise<WriteResult> {
    const db = this.open();
    if (this.options.file === ':memory:' || this.options.writerThread === false) return { added: writeItems(db, items) };
    this.writer ??= new WriterThread(this.options.file);
    return { added: await this.writer.write(items) };
  }

  async refresh(): Promise<void> {}

  async size(): Promise<number> {
    return (this.open().prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  }

  async close(): Promise<void> {
    await this.writer?.close();
    this.writer = undefined;
    this.db?.close();
    this.db = undefined;
  }

  async search(query: LogQuery, options: SearchOptions = {}): Promise<SearchResult> {
    const db = this.open();
    const { where, params } = compileSqlWhere(query);
    this.deadline = Date.now() + (options.timeoutMs ?? this.timeoutMs);
    try {
      return this.run(db, query.shape, where, params, query);
    } finally {
      this.deadline = Infinity;
    }
  }

  private run(db: Database.Database, shape: Shape, where: string, params: unknown[], query: LogQuery): SearchResult {
    const guarded = `${where} AND sb_in_time()`;
    const count = (extra = '') =>
      (db.prepare(`SELECT count(*) AS n FROM events WHERE ${where}${extra}`).get(...params) as { n: number }).n;
    switch (shape.kind) {
      case 'count':
        return { total: count(), hits: [] };
      case 'list': {
        const desc = shape.order !== 'asc';
        const dir = desc ? 'DESC' : 'ASC';
        let cond = guarded;
        const p = [...params];
        if (shape.after) {
          cond += ` AND (ts, file, line) ${desc ? '<' : '>'} (?, ?, ?)`;
          p.push(...shape.after);
        }
        const rows = db
          .prepare(`SELECT * FROM events WHERE ${cond} ORDER BY ts ${dir}, file ${dir}, line ${dir} LIMIT ? OFFSET ?`)
          .all(...p, shape.limit, shape.offset ?? 0) as Row[];
        return { total: count(), hits: rows.map(toHit) };
      }
      case 'terms': {
        const col = COLUMNS[shape.field]!;
        const present = NUMERIC_COLUMNS.has(col) ? `${col} IS NOT NULL` : `${col} IS NOT NULL AND length(${col}) <= ${MAX_EXACT_TEXT}`;
        // Addresses sort by their bytes, as Elasticsearch orders `ip` keys.
        const sortKey = col === 'ip' ? 'min(ip_bin)' : col;
        const rows = db
          .prepare(
            `SELECT ${col} AS key, count(*) AS n FROM events WHERE ${guarded} AND ${present} GROUP BY ${col} ORDER BY n DESC, ${sortKey} ASC LIMIT ?`,
          )
          .all(...params, shape.size) as { key: string | number; n: number }[];
        const buckets: Bucket[] = rows.map((r) => ({ key: String(r.key), count: r.n }));
        const withValue = count(` AND ${present}`);
        return {
          total: count(),
          hits: [],
          buckets,
          otherCount: withValue - buckets.reduce((sum, b) => sum + b.count, 0),
        };
      }
      case 'histogram':
        return this.histogram(db, shape, guarded, params, query, count);
    }
  }

  private histogram(
    db: Database.Database,
    shape: Extract<Shape, { kind: 'histogram' }>,
    where: string,
    params: unknown[],
    query: LogQuery,
    count: () => number,
  ): SearchResult {
    const range = db.prepare(`SELECT min(ts) AS lo, max(ts) AS hi FROM events WHERE ${where}`).get(...params) as {
      lo: number | null;
      hi: number | null;
    };
    const gte = query.time?.gte ? Date.parse(query.time.gte) : undefined;
    const lt = query.time?.lt ? Date.parse(query.time.lt) : undefined;
    const first = gte ?? range.lo;
    const last = lt !== undefined ? lt - 1 : range.hi;
    if (first === null || first === undefined || last === null || last === undefined || last < first) {
      return { total: 0, hits: [], buckets: [] };
    }
    let starts: number[];
    try {
      starts = bucketStarts(first, last, shape.interval, shape.timeZone, MAX_HISTOGRAM_BUCKETS);
    } catch {
      throw new InvalidQueryError(`more than ${MAX_HISTOGRAM_BUCKETS} ${shape.interval}s: narrow the time range`);
    }
    const counts = new Map<number, number>();
    if (range.lo !== null && range.hi !== null) {
      // Local time = UTC + offset; the offset changes only at the zone's transitions within the range.
      const segments = offsetSegments(range.lo, range.hi, shape.timeZone);
      const offset = segments.length === 1
        ? String(segments[0]!.offset * 60_000)
        : `CASE ${segments.slice(1).map((s, i) => `WHEN ts < ${s.start} THEN ${segments[i]!.offset * 60_000}`).join(' ')} ELSE ${segments[segments.length - 1]!.offset * 60_000} END`;
      const unit = shape.interval === 'hour' ? 3_600_000 : 86_400_000;
      // Hours: local hour and offset (the repeated hour at the end of summer time is two buckets).
      // Days: the local day alone.
      const sql =
        shape.interval === 'hour'
          ? `SELECT (ts + o) / ${unit} AS local, o, count(*) AS n FROM (SELECT ts, ${offset} AS o FROM events WHERE ${where}) GROUP BY local, o`
          : `SELECT (ts + o) / ${unit} AS local, min(ts) AS sample, count(*) AS n FROM (SELECT ts, ${offset} AS o FROM events WHERE ${where}) GROUP BY local`;
      for (const row of db.prepare(sql).all(...params) as { local: number; o?: number; sample?: number; n: number }[]) {
        const start =
          shape.interval === 'hour' ? row.local * unit - row.o! : bucketStart(row.sample!, 'day', shape.timeZone);
        counts.set(start, (counts.get(start) ?? 0) + row.n);
      }
    }
    const buckets = starts.map((s) => ({ key: bucketKey(s, shape.timeZone), count: counts.get(s) ?? 0 }));
    return { total: count(), hits: [], buckets };
  }
}

function toHit(row: Row): Hit {
  const event: LogEvent = {
    '@timestamp': new Date(row.ts as number).toISOString(),
    'log.level': row.level as LogLevel,
    message: row.message as string,
    'log.file.path': row.file as string,
    'log.file.line': row.line as number,
  };
  const out = event as unknown as Record<string, unknown>;
  for (const [field, col] of Object.entries(COLUMNS)) {
    const v = row[col];
    if (v !== null && v !== undefined && out[field] === undefined) out[field] = v;
  }
  if (row.params) event.params = JSON.parse(row.params as string) as Record<string, string>;
  if (row.labels) event.labels = JSON.parse(row.labels as string) as Record<string, string>;
  return { source: sourceOf(event), ...orderEvent(event) };
}

/** The JSON path of a request parameter; quoting keeps a dot inside a key literal (validated keys hold no quotes). */
function jsonPath(field: string): string {
  return `$."${field.slice('params.'.length)}"`;
}

/** Compiles the filters and time range of a query into a parameterised WHERE clause. */
export function compileSqlWhere(query: LogQuery): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const parts = query.filters.map((f) => compileFilter(f, params));
  if (query.time?.gte) {
    parts.push('ts >= ?');
    params.push(Date.parse(query.time.gte));
  }
  if (query.time?.lt) {
    parts.push('ts < ?');
    params.push(Date.parse(query.time.lt));
  }
  return { where: parts.length ? parts.join(' AND ') : '1', params };
}

function column(field: string): string {
  const col = COLUMNS[field];
  if (!col) throw new InvalidQueryError(`unknown field '${field}'`);
  return col;
}

/** A text column as Elasticsearch's keyword index sees it: absent when longer than `ignore_above`. */
function indexed(col: string): string {
  return NUMERIC_COLUMNS.has(col) ? col : `(CASE WHEN length(${col}) <= ${MAX_EXACT_TEXT} THEN ${col} END)`;
}

function compileFilter(f: Filter, params: unknown[]): string {
  switch (f.op) {
    case 'eq':
    case 'in': {
      const values = f.op === 'eq' ? [f.value] : f.values;
      const isParam = f.field.startsWith('params.');
      const target = isParam ? 'json_extract(params, ?)' : column(f.field);
      const numericCol = NUMERIC_COLUMNS.has(target);
      // A number never equals a keyword value, nor a word a number: both stores find nothing.
      const typed = values.filter((v) => (numericCol ? typeof v === 'number' : true)).map((v) => (numericCol ? v : String(v)));
      if (typed.length === 0) return '0';
      if (isParam) params.push(jsonPath(f.field));
      params.push(...typed);
      const nocase = f.op === 'eq' && f.caseInsensitive ? ' COLLATE NOCASE' : '';
      return typed.length === 1 ? `${target} = ?${nocase}` : `${target} IN (${typed.map(() => '?').join(', ')})`;
    }
    case 'range': {
      const col = column(f.field);
      const parts: string[] = [];
      if (f.gte !== undefined) {
        parts.push(`${col} >= ?`);
        params.push(f.gte);
      }
      if (f.lte !== undefined) {
        parts.push(`${col} <= ?`);
        params.push(f.lte);
      }
      return `(${parts.join(' AND ')})`;
    }
    case 'cidr': {
      const range = parseCidr(f.value)!;
      params.push(range.low, range.high);
      return '(ip_bin BETWEEN ? AND ?)';
    }
    case 'phrase':
      params.push(terms(f.value));
      return 'instr(message_terms, ?) > 0';
    case 'prefix': {
      const col = indexed(column(f.field));
      params.push(f.value, f.value);
      return `substr(${col}, 1, length(?)) = ?`;
    }
    case 'contains': {
      params.push(f.value);
      return `instr(${indexed(column(f.field))}, ?) > 0`;
    }
    case 'wildcard': {
      params.push(toGlob(f.value));
      return `${indexed(column(f.field))} GLOB ?`;
    }
    case 'exists': {
      if (f.field.startsWith('params.')) {
        params.push(jsonPath(f.field));
        return 'json_type(params, ?) IS NOT NULL';
      }
      const col = column(f.field);
      return `${indexed(col)} IS NOT NULL`;
    }
    case 'not':
      return `NOT IFNULL((${compileFilter(f.filter, params)}), 0)`;
    case 'any':
      return `(${f.filters.map((x) => `IFNULL((${compileFilter(x, params)}), 0)`).join(' OR ')})`;
  }
}

/** `*` and `?` keep their meaning; GLOB's own `[` is made literal. */
function toGlob(pattern: string): string {
  return pattern.replace(/\[/g, '[[]');
}
