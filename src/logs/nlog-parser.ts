import { hash } from 'node:crypto';
import { canonicalIp } from './ip';
import { Line, ReadFrom } from './line-reader';
import { LogEvent, LogLevel, routeOf } from './log-event';
import { CanonicalField, canonicalField, SourceConfig } from './sources';
import { TIMESTAMP_PATTERN_SOURCE, TimestampError, TimestampReader, toIso } from './timestamps';

/** A line (or event) that could not be read, with where it is and why. */
export interface Malformed {
  /** `path:line`, relative to the ingested root. */
  source: string;
  reason: string;
}

/** An event with its store id. */
export interface ParsedEvent {
  id: string;
  event: LogEvent;
}

export interface ParserOptions {
  source: SourceConfig;
  /** Named groups captured by the source's `path` (host, dataset). */
  groups: Record<string, string>;
  /** Path relative to the ingested root, `/` separators. */
  relPath: string;
}

/** The longest event (all its lines) kept; longer ones are reported as malformed rather than stored. */
export const MAX_EVENT_BYTES = 1024 * 1024;

const LEVELS: Record<string, LogLevel> = {
  trace: 'trace', verbose: 'trace', debug: 'debug', info: 'info', information: 'info',
  warn: 'warn', warning: 'warn', error: 'error', err: 'error', fatal: 'fatal', critical: 'fatal',
};

const STARTS_WITH_TIMESTAMP = new RegExp(`^${TIMESTAMP_PATTERN_SOURCE}`);
// .NET exception text as written by ${exception:format=tostring}: a namespace-qualified type name.
const EXCEPTION_START = /(^|\s)((?:[A-Za-z_][\w`]*\.)+[A-Za-z_][\w`]*(?:Exception|Error))(?=:|\s*$)/;
const CONTROL_CHARS = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/;

/**
 * Turns the lines of one file into events. Feed every physical line in order with `line()`, then
 * `flush()` at the end of the file (or when a follower decides the last event is complete).
 * Output accumulates in `events` and `malformed`; the caller takes it with `take()`.
 */
export abstract class FileParser {
  protected readonly out: ParsedEvent[] = [];
  protected readonly bad: Malformed[] = [];
  protected readonly times: TimestampReader;

  constructor(protected readonly opts: ParserOptions) {
    this.times = new TimestampReader(opts.source.timezone);
  }

  /** Handles one line without its terminator (`\r` already removed); `this.next` is still where it starts. */
  protected abstract line(text: string, lineNo: number): void;

  /** Emits the event still being assembled, if any. */
  flush(): void {}

  /** True while an event is being assembled that `flush()` would emit. */
  hasUnemitted(): boolean {
    return false;
  }

  /** Tells the parser where reading starts when it is not the beginning of the file. */
  resumeAt(from: ReadFrom): void {
    this.next = from;
  }

  /**
   * Where to read again after a restart so that nothing is lost: after the last complete event,
   * or at the start of an event that may still grow. Events read twice keep their id.
   */
  resumePoint(): ReadFrom {
    return this.next;
  }

  /** Where the line after the last one fed starts. */
  protected next: ReadFrom = { offset: 0, lineNo: 1 };

  /** Feeds a line as read from the file (undefined text: not UTF-8). */
  feed(line: Line): void {
    if (line.text === undefined) this.reject(line.lineNo, 'not text: invalid UTF-8 (binary data?)');
    else this.line(line.text, line.lineNo);
    this.next = { offset: line.endOffset, lineNo: line.lineNo + 1 };
  }

  take(): { events: ParsedEvent[]; malformed: Malformed[] } {
    return { events: this.out.splice(0), malformed: this.bad.splice(0) };
  }

  protected reject(lineNo: number, reason: string): void {
    this.bad.push({ source: `${this.opts.relPath}:${lineNo}`, reason });
  }

  protected emit(event: LogEvent, firstLine: string): void {
    const g = this.opts.groups;
    const s = this.opts.source;
    if (event['host.name'] === undefined && (g.host ?? s.host)) event['host.name'] = g.host ?? s.host;
    if (event['event.dataset'] === undefined && (g.dataset ?? s.dataset)) event['event.dataset'] = g.dataset ?? s.dataset;
    const id = eventId(this.opts.relPath, event['log.file.line'], firstLine);
    this.out.push({ id, event });
  }
}

/**
 * The store id of an event: derived from its provenance (path and first line number) and its first
 * line, so ingesting the same file again is a no-op, while a new file that reuses a rotated file's
 * name does not collide with it.
 */
export function eventId(relPath: string, line: number, firstLine: string): string {
  return hash('sha1', `${relPath}\n${line}\n${firstLine}`, 'hex').slice(0, 32);
}

export function createParser(format: 'nlog-json' | 'nlog-text', opts: ParserOptions): FileParser {
  return format === 'nlog-json' ? new JsonLineParser(opts) : new TextLayoutParser(opts);
}

/** nlog JsonLayout: one JSON object a line. */
export class JsonLineParser extends FileParser {
  private readonly mapping: Record<string, CanonicalField | undefined> = {};

  constructor(opts: ParserOptions) {
    super(opts);
    for (const [attr, target] of Object.entries(opts.source.fields)) this.mapping[attr] = canonicalField(target);
  }

  protected line(text: string, lineNo: number): void {
    if (text.trim() === '') return;
    if (text.length > MAX_EVENT_BYTES) return this.reject(lineNo, `line longer than ${MAX_EVENT_BYTES} bytes`);
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      // JSON allows no raw control characters, so binary data always lands here.
      if (CONTROL_CHARS.test(text)) return this.reject(lineNo, 'not text: control characters (binary data?)');
      const truncated = text.trimStart().startsWith('{') && !text.trimEnd().endsWith('}');
      return this.reject(lineNo, `${truncated ? 'truncated JSON' : 'not valid JSON'}: ${(err as Error).message}`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      return this.reject(lineNo, 'not a JSON object');
    }
    const values: Partial<Record<CanonicalField, unknown>> = {};
    const labels: Record<string, string> = {};
    for (const [key, value] of Object.entries(obj as Record<string, unknown>)) {
      const field = key in this.mapping ? this.mapping[key] : canonicalField(key);
      if (field) {
        if (values[field] === undefined) values[field] = value;
      } else if (value !== null && value !== undefined) {
        labels[key] = typeof value === 'string' ? value : JSON.stringify(value);
      }
    }
    if (values.time === undefined) return this.reject(lineNo, 'no timestamp (time)');
    if (typeof values.time !== 'string') return this.reject(lineNo, 'timestamp is not a string');
    try {
      const event = buildEvent(values, this.times, this.opts.relPath, lineNo);
      if (Object.keys(labels).length) event.labels = { ...labels, ...event.labels };
      this.emit(event, text);
    } catch (err) {
      if (err instanceof TimestampError || err instanceof FieldError) return this.reject(lineNo, err.message);
      throw err;
    }
  }
}

interface PendingText {
  lineNo: number;
  startOffset: number;
  firstLine: string;
  head: Record<string, string>;
  extra: string[];
  bytes: number;
  /** Emitted as it is now; more continuation lines make it due again (same id: the store replaces it). */
  emitted: boolean;
  /** Set when the first line was rejected: its continuation lines are skipped with it. */
  rejected?: boolean;
}

/**
 * nlog text layouts (default: `${longdate}|${level:uppercase=true}|${logger}|${message}`); stack
 * traces continue on the next lines. The last event of a file stays open after it is emitted: a
 * follower may flush it on a timeout and then see more of its stack trace arrive.
 */
export class TextLayoutParser extends FileParser {
  private readonly layout: RegExp;
  private last: PendingText | undefined;

  constructor(opts: ParserOptions) {
    super(opts);
    this.layout = compileLayout(opts.source.layout);
  }

  protected line(text: string, lineNo: number): void {
    const startOffset = this.next.offset;
    if (CONTROL_CHARS.test(text)) {
      // Garbage is never glued to the event above: that event stays as it was.
      this.reject(lineNo, 'not text: control characters (binary data?)');
      return;
    }
    if (STARTS_WITH_TIMESTAMP.test(text)) {
      this.flush();
      const m = this.layout.exec(text);
      const base = { lineNo, startOffset, firstLine: text, extra: [], emitted: false };
      if (!m) {
        this.reject(lineNo, `does not match the layout ${this.opts.source.layout}`);
        this.last = { ...base, head: {}, bytes: 0, rejected: true };
        return;
      }
      this.last = { ...base, head: { ...m.groups }, bytes: text.length };
      return;
    }
    const last = this.last;
    if (!last) {
      if (text.trim() !== '') this.reject(lineNo, 'does not start with a timestamp and follows no event');
      return;
    }
    if (last.rejected) return;
    last.bytes += text.length + 1;
    if (last.bytes > MAX_EVENT_BYTES) {
      this.reject(last.lineNo, `event longer than ${MAX_EVENT_BYTES} bytes`);
      last.rejected = true;
      return;
    }
    last.extra.push(text);
    if (text.trim() !== '') last.emitted = false;
  }

  override resumePoint(): ReadFrom {
    return this.last ? { offset: this.last.startOffset, lineNo: this.last.lineNo } : this.next;
  }

  override hasUnemitted(): boolean {
    return !!this.last && !this.last.emitted && !this.last.rejected;
  }

  override flush(): void {
    const p = this.last;
    if (!p || p.rejected || p.emitted) return;
    p.emitted = true;
    const extra = [...p.extra];
    while (extra.length && extra[extra.length - 1]!.trim() === '') extra.pop();
    const values: Partial<Record<CanonicalField, unknown>> = {};
    for (const [group, value] of Object.entries(p.head)) {
      const field = canonicalField(group);
      if (field && value !== undefined) values[field] = value;
    }
    let message = String(values.message ?? '');
    let exception: string | undefined;
    const ex = EXCEPTION_START.exec(message);
    if (ex) {
      exception = message.slice(ex.index + ex[1]!.length);
      message = message.slice(0, ex.index);
    }
    if (extra.length) exception = [exception ?? '', ...extra].join('\n').replace(/^\n/, '');
    values.message = message.trimEnd();
    if (exception !== undefined) values.exception = exception;
    for (const pattern of this.opts.source.patterns) {
      const m = pattern.exec(values.message as string);
      for (const [group, value] of Object.entries(m?.groups ?? {})) {
        const field = canonicalField(group);
        if (field && value !== undefined && values[field] === undefined) values[field] = value;
      }
    }
    try {
      this.emit(buildEvent(values, this.times, this.opts.relPath, p.lineNo), p.firstLine);
    } catch (err) {
      if (err instanceof TimestampError || err instanceof FieldError) {
        p.rejected = true;
        return this.reject(p.lineNo, err.message);
      }
      throw err;
    }
  }
}

class FieldError extends Error {}

/** Compiles an nlog layout into a regular expression with named groups for the renderers it knows. */
export function compileLayout(layout: string): RegExp {
  let re = '^';
  const parts = layout.split(/(\$\{[^}]*\})/);
  for (const part of parts) {
    if (!part) continue;
    const renderer = /^\$\{([A-Za-z-]+)/.exec(part)?.[1]?.toLowerCase();
    if (!renderer) {
      re += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      continue;
    }
    if (renderer === 'message') {
      // The message runs to the end of the line; an ${exception} after it is split off later.
      re += '(?<message>.*)';
      break;
    }
    if (renderer === 'longdate' || renderer === 'date') re += `(?<time>${TIMESTAMP_PATTERN_SOURCE})`;
    else if (renderer === 'level') re += '(?<level>[A-Za-z]+)';
    else {
      const field = canonicalField(renderer);
      re += field && !re.includes(`(?<${field}>`) ? `(?<${field}>.*?)` : '(?:.*?)';
    }
  }
  return new RegExp(re + (re.endsWith('(?<message>.*)') ? '$' : ''));
}

function str(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function num(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new FieldError(`${name} is not a number: '${String(value).slice(0, 40)}'`);
  return n;
}

function pathOf(url: string): string {
  let path = url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
  if (scheme) path = path.slice(scheme[0].length) || '/';
  const cut = path.search(/[?#]/);
  return cut >= 0 ? path.slice(0, cut) : path;
}

/** Request parameters by key: from a JSON object, or from a query string `a=1&b=2`. */
export function parseParams(raw: string): Record<string, string> | undefined {
  const text = raw.trim();
  if (text.startsWith('{')) {
    try {
      const obj = JSON.parse(text) as unknown;
      if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(obj as Record<string, unknown>)) out[k] = v === null ? 'null' : (str(v) ?? '');
        return out;
      }
    } catch {
      return undefined;
    }
    return undefined;
  }
  if (/^[^=&\s]+=[^&]*(?:&[^=&\s]+=[^&]*)*$/.test(text)) {
    const out: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(text)) if (!(k in out)) out[k] = v;
    return out;
  }
  return undefined;
}

/** Splits `.NET` exception text (`Type: message\n   at ...`) into ECS error fields. */
export function errorFields(exception: unknown): Pick<LogEvent, 'error.type' | 'error.message' | 'error.stack_trace'> {
  if (exception && typeof exception === 'object') {
    const e = exception as Record<string, unknown>;
    const type = str(e.Type ?? e.type), message = str(e.Message ?? e.message);
    const stack = str(e.StackTrace ?? e.stackTrace ?? e.stack);
    const text = [type && message ? `${type}: ${message}` : type ?? message, stack].filter(Boolean).join('\n');
    return { ...(type ? { 'error.type': type } : {}), ...(message ? { 'error.message': message } : {}), ...(text ? { 'error.stack_trace': text } : {}) };
  }
  const text = str(exception);
  if (!text) return {};
  const firstLine = text.split('\n', 1)[0]!;
  const m = /^((?:[A-Za-z_][\w`]*\.)*[A-Za-z_][\w`]*)(?::\s?(.*))?$/.exec(firstLine);
  if (m && (/(?:Exception|Error)$/.test(m[1]!) || m[2] !== undefined)) {
    return { 'error.type': m[1]!, ...(m[2] ? { 'error.message': m[2] } : {}), 'error.stack_trace': text };
  }
  return { 'error.message': firstLine, 'error.stack_trace': text };
}

function buildEvent(v: Partial<Record<CanonicalField, unknown>>, times: TimestampReader, relPath: string, lineNo: number): LogEvent {
  const ts = times.read(String(v.time));
  const levelText = str(v.level);
  let level: LogLevel = 'info';
  if (levelText !== undefined) {
    const mapped = LEVELS[levelText.toLowerCase()];
    if (!mapped) throw new FieldError(`unknown level '${levelText.slice(0, 20)}'`);
    level = mapped;
  }
  const event: LogEvent = {
    '@timestamp': toIso(ts),
    'log.level': level,
    message: str(v.message) ?? '',
    'log.file.path': relPath,
    'log.file.line': lineNo,
  };
  const set = <K extends keyof LogEvent>(key: K, value: LogEvent[K] | undefined) => {
    if (value !== undefined) event[key] = value;
  };
  set('log.logger', str(v.logger));
  set('host.name', str(v.host));
  set('event.dataset', str(v.dataset));
  set('http.request.id', str(v.requestId));
  set('user.id', str(v.userId));
  set('user.name', str(v.login));
  set('http.request.method', str(v.method)?.toUpperCase());
  const url = str(v.url);
  if (url !== undefined) {
    const path = pathOf(url);
    event['url.path'] = path;
    event['http.route'] = routeOf(path);
  }
  set('http.response.status_code', num(v.statusCode, 'statusCode'));
  const elapsed = num(v.elapsedMs, 'elapsedMs');
  if (elapsed !== undefined) event['event.duration'] = Math.round(elapsed * 1e6);
  const ip = str(v.clientIp);
  if (ip !== undefined) {
    const canonical = canonicalIp(ip);
    // An address Elasticsearch would refuse is kept as a label rather than losing the event.
    if (canonical) event['source.ip'] = canonical;
    else event.labels = { ...event.labels, clientIp: ip };
  }
  set('document.id', str(v.documentId));
  set('document.type', str(v.documentType));
  set('entity.id', str(v.entityId));
  if (v.params !== undefined && v.params !== null) {
    const raw = typeof v.params === 'string' ? v.params : JSON.stringify(v.params);
    event['http.request.params'] = raw;
    const params = parseParams(raw);
    if (params) event.params = params;
  }
  Object.assign(event, errorFields(v.exception));
  return event;
}

