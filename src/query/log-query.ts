import { isIP } from 'node:net';
import { KEYWORD_FIELDS, KeywordField, LOG_LEVELS, NUMERIC_FIELDS, NumericField } from '../logs/log-event';
import { tokenize } from '../logs/analysis';
import { isValidZone } from '../logs/timestamps';
import { parseCidr } from '../logs/ip';

/**
 * A question about the logs, typed and validated: what both stores compile (Elasticsearch DSL,
 * SQL) and what alert rules filter with. Nothing in it is query syntax: every value is data.
 */
export interface LogQuery {
  /** All must match. */
  filters: Filter[];
  /** `gte` inclusive, `lt` exclusive; ISO 8601 UTC instants. Absent: all history. */
  time?: TimeRange;
  shape: Shape;
}

export interface TimeRange {
  gte?: string;
  lt?: string;
}

/** A request parameter by key, e.g. `params.isAcknowledged`. */
export type ParamField = `params.${string}`;
export type EqField = KeywordField | NumericField | ParamField;

export type Filter =
  /** Exact value. `caseInsensitive` only for ASCII values (both stores fold ASCII alike). */
  | { op: 'eq'; field: EqField; value: string | number; caseInsensitive?: boolean }
  | { op: 'in'; field: EqField; values: (string | number)[] }
  /** Inclusive bounds on a number. */
  | { op: 'range'; field: NumericField; gte?: number; lte?: number }
  /** An IP address or a CIDR block on `source.ip`. */
  | { op: 'cidr'; field: 'source.ip'; value: string }
  /** Words in this order (analysed like Elasticsearch's standard analyzer): `match_phrase`. */
  | { op: 'phrase'; field: 'message'; value: string }
  /** Starts with this exact text (case-sensitive). */
  | { op: 'prefix'; field: TextField; value: string }
  /** Contains this exact text (case-sensitive). */
  | { op: 'contains'; field: TextField; value: string }
  /** Shell-style pattern on the whole value: `*` any run, `?` one character; case-sensitive. */
  | { op: 'wildcard'; field: TextField; value: string }
  /** The field has a value (for `params.x`: the request had that parameter). */
  | { op: 'exists'; field: KeywordField | NumericField | 'source.ip' | ParamField }
  | { op: 'not'; filter: Filter }
  /** At least one must match. */
  | { op: 'any'; filters: Filter[] };

/** Fields that hold text matched by prefix, contains or wildcard (the exact value, not words). */
export const TEXT_FIELDS = [...KEYWORD_FIELDS, 'message', 'error.message', 'error.stack_trace'] as const;
export type TextField = (typeof TEXT_FIELDS)[number];

export const GROUP_FIELDS = [
  'user.id', 'user.name', 'host.name', 'http.response.status_code', 'http.route', 'url.path', 'message',
  'log.level', 'log.logger', 'event.dataset', 'document.id', 'document.type', 'entity.id', 'source.ip', 'error.type',
] as const;
export type GroupField = (typeof GROUP_FIELDS)[number];

export type Shape =
  /** Events, newest first unless `order` is `asc`. `offset` pages; `after` continues a scan after a hit's sort key. */
  | { kind: 'list'; limit: number; order?: 'desc' | 'asc'; offset?: number; after?: SortKey }
  | { kind: 'count' }
  /** Count per value, count descending then value ascending; the top `size`. */
  | { kind: 'terms'; field: GroupField; size: number }
  /** Count per calendar hour or day in `timeZone`, empty buckets included across the range. */
  | { kind: 'histogram'; interval: 'hour' | 'day'; timeZone: string };

/** Where a hit sorts: time (epoch ms), file path, line. Unique per event. */
export type SortKey = [number, string, number];

export const MAX_LIST_LIMIT = 1000;
export const MAX_TERMS_SIZE = 500;
/** Texts longer than this are not matched exactly (Elasticsearch `ignore_above` on keyword fields). */
export const MAX_EXACT_TEXT = 8191;
/** The most buckets a histogram may have (a year of hours). */
export const MAX_HISTOGRAM_BUCKETS = 9000;
const MAX_FILTERS = 64;
const MAX_VALUE_LENGTH = 1024;

export class InvalidQueryError extends Error {}

const PARAM_KEY = /^params\.[A-Za-z0-9_\-$@][A-Za-z0-9_\-$@.]{0,99}$/;

function isParamField(field: string): field is ParamField {
  return PARAM_KEY.test(field);
}

const keyword = new Set<string>(KEYWORD_FIELDS);
const numeric = new Set<string>(NUMERIC_FIELDS);
const text = new Set<string>(TEXT_FIELDS);

/**
 * Checks a query that came from outside the process (a rule file, card data): known fields and
 * operators, values of the right type and size. Throws InvalidQueryError saying what is wrong.
 */
export function validateLogQuery(query: unknown): LogQuery {
  if (!isObject(query)) throw new InvalidQueryError('query must be an object');
  const q = query as Record<string, unknown>;
  if (!Array.isArray(q.filters)) throw new InvalidQueryError('filters must be a list');
  let count = 0;
  const filters = q.filters.map((f, i) => validateFilter(f, `filters[${i}]`, () => ++count));
  if (count > MAX_FILTERS) throw new InvalidQueryError(`too many conditions (${count}, at most ${MAX_FILTERS})`);
  const out: LogQuery = { filters, shape: validateShape(q.shape) };
  if (q.time !== undefined) out.time = validateTime(q.time);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validateTime(t: unknown): TimeRange {
  if (!isObject(t)) throw new InvalidQueryError('time must be an object with gte and/or lt');
  const out: TimeRange = {};
  for (const key of ['gte', 'lt'] as const) {
    const v = t[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(v) || Number.isNaN(Date.parse(v))) {
      throw new InvalidQueryError(`time.${key} must be an ISO 8601 UTC instant`);
    }
    out[key] = new Date(Date.parse(v)).toISOString();
  }
  return out;
}

function validateShape(s: unknown): Shape {
  if (!isObject(s)) throw new InvalidQueryError('shape must be an object');
  switch (s.kind) {
    case 'list': {
      const limit = s.limit;
      if (!Number.isInteger(limit) || (limit as number) < 0 || (limit as number) > MAX_LIST_LIMIT) {
        throw new InvalidQueryError(`shape.limit must be an integer from 0 to ${MAX_LIST_LIMIT}`);
      }
      const out: Shape = { kind: 'list', limit: limit as number };
      if (s.order !== undefined) {
        if (s.order !== 'asc' && s.order !== 'desc') throw new InvalidQueryError('shape.order must be asc or desc');
        out.order = s.order;
      }
      if (s.offset !== undefined) {
        if (!Number.isInteger(s.offset) || (s.offset as number) < 0 || (s.offset as number) > 10_000 - MAX_LIST_LIMIT) {
          throw new InvalidQueryError('shape.offset must be an integer from 0 to 9000');
        }
        out.offset = s.offset as number;
      }
      if (s.after !== undefined) {
        const a = s.after;
        if (!Array.isArray(a) || a.length !== 3 || !Number.isInteger(a[0]) || typeof a[1] !== 'string' || !Number.isInteger(a[2])) {
          throw new InvalidQueryError('shape.after must be [epochMs, path, line]');
        }
        out.after = [a[0], a[1], a[2]];
      }
      return out;
    }
    case 'count':
      return { kind: 'count' };
    case 'terms': {
      if (!(GROUP_FIELDS as readonly unknown[]).includes(s.field)) throw new InvalidQueryError(`cannot group by '${String(s.field)}'`);
      if (!Number.isInteger(s.size) || (s.size as number) < 1 || (s.size as number) > MAX_TERMS_SIZE) {
        throw new InvalidQueryError(`shape.size must be an integer from 1 to ${MAX_TERMS_SIZE}`);
      }
      return { kind: 'terms', field: s.field as GroupField, size: s.size as number };
    }
    case 'histogram': {
      if (s.interval !== 'hour' && s.interval !== 'day') throw new InvalidQueryError('shape.interval must be hour or day');
      if (typeof s.timeZone !== 'string' || !isValidZone(s.timeZone)) throw new InvalidQueryError('shape.timeZone must be an IANA time zone');
      return { kind: 'histogram', interval: s.interval, timeZone: s.timeZone };
    }
    default:
      throw new InvalidQueryError(`unknown shape '${String(s.kind)}'`);
  }
}

function checkString(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new InvalidQueryError(`${at} must be a string`);
  if (v.length === 0) throw new InvalidQueryError(`${at} must not be empty`);
  if (v.length > MAX_VALUE_LENGTH) throw new InvalidQueryError(`${at} is longer than ${MAX_VALUE_LENGTH} characters`);
  return v;
}

function checkValue(field: string, v: unknown, at: string): string | number {
  if (numeric.has(field)) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new InvalidQueryError(`${at} must be an integer for ${field}`);
    return v;
  }
  const s = checkString(v, at);
  if (field === 'log.level' && !(LOG_LEVELS as readonly string[]).includes(s)) {
    throw new InvalidQueryError(`${at}: '${s}' is not a level (${LOG_LEVELS.join(', ')})`);
  }
  return s;
}

function validateFilter(f: unknown, at: string, tick: () => number): Filter {
  tick();
  if (!isObject(f)) throw new InvalidQueryError(`${at} must be an object`);
  const field = f.field;
  const needField = (ok: (x: string) => boolean, what: string): string => {
    if (typeof field !== 'string' || !ok(field)) throw new InvalidQueryError(`${at}: '${String(field)}' is not ${what}`);
    return field;
  };
  const eqField = (x: string) => keyword.has(x) || numeric.has(x) || isParamField(x);
  switch (f.op) {
    case 'eq': {
      const fld = needField(eqField, 'a field with exact values') as EqField;
      const value = checkValue(fld, f.value, `${at}.value`);
      const out: Filter = { op: 'eq', field: fld, value };
      if (f.caseInsensitive === true) {
        if (typeof value !== 'string' || !/^[\x20-\x7e]*$/.test(value)) throw new InvalidQueryError(`${at}: caseInsensitive needs a printable ASCII value`);
        out.caseInsensitive = true;
      }
      return out;
    }
    case 'in': {
      const fld = needField(eqField, 'a field with exact values') as EqField;
      if (!Array.isArray(f.values) || f.values.length === 0 || f.values.length > 1000) {
        throw new InvalidQueryError(`${at}.values must be a list of 1 to 1000 values`);
      }
      return { op: 'in', field: fld, values: f.values.map((v, i) => checkValue(fld, v, `${at}.values[${i}]`)) };
    }
    case 'range': {
      const fld = needField((x) => numeric.has(x), 'a numeric field') as NumericField;
      const out: Filter = { op: 'range', field: fld };
      for (const key of ['gte', 'lte'] as const) {
        if (f[key] === undefined) continue;
        if (typeof f[key] !== 'number' || !Number.isSafeInteger(f[key])) throw new InvalidQueryError(`${at}.${key} must be an integer`);
        out[key] = f[key] as number;
      }
      if (out.gte === undefined && out.lte === undefined) throw new InvalidQueryError(`${at}: a range needs gte and/or lte`);
      return out;
    }
    case 'cidr': {
      needField((x) => x === 'source.ip', 'source.ip');
      const value = checkString(f.value, `${at}.value`);
      if (!isIP(value) && !parseCidr(value)) throw new InvalidQueryError(`${at}: '${value}' is not an IP address or CIDR block`);
      return { op: 'cidr', field: 'source.ip', value };
    }
    case 'phrase': {
      needField((x) => x === 'message', 'message');
      const value = checkString(f.value, `${at}.value`);
      if (tokenize(value).length === 0) throw new InvalidQueryError(`${at}: the phrase has no words to search for`);
      return { op: 'phrase', field: 'message', value };
    }
    case 'prefix':
    case 'contains':
    case 'wildcard': {
      const fld = needField((x) => text.has(x), 'a text field') as TextField;
      const value = checkString(f.value, `${at}.value`);
      return { op: f.op as 'prefix' | 'contains' | 'wildcard', field: fld, value } as Filter;
    }
    case 'exists': {
      const fld = needField((x) => keyword.has(x) || numeric.has(x) || x === 'source.ip' || isParamField(x), 'a field');
      return { op: 'exists', field: fld as KeywordField };
    }
    case 'not':
      return { op: 'not', filter: validateFilter(f.filter, `${at}.filter`, tick) };
    case 'any': {
      if (!Array.isArray(f.filters) || f.filters.length === 0) throw new InvalidQueryError(`${at}.filters must be a non-empty list`);
      return { op: 'any', filters: f.filters.map((x, i) => validateFilter(x, `${at}.filters[${i}]`, tick)) };
    }
    default:
      throw new InvalidQueryError(`${at}: unknown operator '${String(f.op)}'`);
  }
}
