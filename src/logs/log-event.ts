/**
 * The log event model. Field names follow the Elastic Common Schema (ECS) where ECS has one, so
 * the same documents read naturally in Kibana; the rest are named in the same dotted style.
 *
 * Events are flat records keyed by the dotted name, both in memory and in Elasticsearch `_source`.
 */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogEvent {
  /** UTC instant, ISO 8601 with milliseconds and `Z`, e.g. `2020-06-12T10:57:15.000Z`. */
  '@timestamp': string;
  'log.level': LogLevel;
  'log.logger'?: string;
  message: string;
  /** The kind of log the event came from, e.g. `api` or `auth`. */
  'event.dataset'?: string;
  /** The node that wrote the log, e.g. `APP01`. */
  'host.name'?: string;
  /** The application's user id, as a string (`"1087"`). */
  'user.id'?: string;
  /** The user's login name (`y.larsen`). */
  'user.name'?: string;
  'http.request.method'?: string;
  'http.request.id'?: string;
  /** The request parameters exactly as logged (often a JSON string). */
  'http.request.params'?: string;
  /** The request path without the query string, e.g. `/api/documents/11213`. */
  'url.path'?: string;
  /** The path with numeric and GUID segments replaced by `{id}`: the endpoint, e.g. `/api/documents/{id}`. */
  'http.route'?: string;
  'http.response.status_code'?: number;
  /** Request duration in nanoseconds (ECS unit). */
  'event.duration'?: number;
  'source.ip'?: string;
  'error.type'?: string;
  'error.message'?: string;
  /** The whole exception as logged: type, message and stack frames. */
  'error.stack_trace'?: string;
  'document.id'?: string;
  'document.type'?: string;
  'entity.id'?: string;
  /** The request parameters by key (values as strings), parsed from `http.request.params`. */
  params?: Record<string, string>;
  /** Other attributes of the log line that have no field of their own, as strings. */
  labels?: Record<string, string>;
  /** Provenance: the file path relative to the ingested root, with `/` separators. */
  'log.file.path': string;
  /** Provenance: the 1-based number of the event's first line in that file. */
  'log.file.line': number;
}

/** The provenance a support engineer needs to open the raw line: `APP01/api/2020-06-12.log:866`. */
export function sourceOf(event: Pick<LogEvent, 'log.file.path' | 'log.file.line'>): string {
  return `${event['log.file.path']}:${event['log.file.line']}`;
}

/** Fields that hold a keyword (exact string) value. */
export const KEYWORD_FIELDS = [
  'log.level',
  'log.logger',
  'event.dataset',
  'host.name',
  'user.id',
  'user.name',
  'http.request.method',
  'http.request.id',
  'url.path',
  'http.route',
  'error.type',
  'document.id',
  'document.type',
  'entity.id',
  'log.file.path',
] as const;
export type KeywordField = (typeof KEYWORD_FIELDS)[number];

export const NUMERIC_FIELDS = ['http.response.status_code', 'event.duration', 'log.file.line'] as const;
export type NumericField = (typeof NUMERIC_FIELDS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

const ID_SEGMENTS = /(?<=\/)(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?=\/|$)/gi;

/** `/api/documents/11213` → `/api/documents/{id}`: groups requests by endpoint rather than by record. */
export function routeOf(path: string): string {
  return path.replace(ID_SEGMENTS, '{id}');
}

/** Field order of an event everywhere it is shown (both stores return events in this order). */
const FIELD_ORDER = [
  '@timestamp', 'log.level', 'message', 'log.logger', 'event.dataset', 'host.name', 'user.id', 'user.name',
  'http.request.method', 'url.path', 'http.route', 'http.response.status_code', 'event.duration', 'source.ip',
  'http.request.id', 'http.request.params', 'params', 'document.id', 'document.type', 'entity.id', 'error.type',
  'error.message', 'error.stack_trace', 'labels', 'log.file.path', 'log.file.line',
] as const;

/** The same event with its fields in FIELD_ORDER (absent fields left out). */
export function orderEvent(event: LogEvent): LogEvent {
  const source = event as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of FIELD_ORDER) if (source[key] !== undefined) out[key] = source[key];
  return out as unknown as LogEvent;
}
