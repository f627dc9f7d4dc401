import { Filter, LogQuery, MAX_EXACT_TEXT, TextField } from '../../query/log-query';

/** The request body the Elasticsearch store sends for a query: support can read it and reuse it in Kibana. */
export type EsSearchBody = Record<string, unknown>;

/** Fields searched as words have an exact (keyword) sub-field for prefix, contains, wildcard and grouping. */
const KEYWORD_SUBFIELD: Record<string, string> = {
  message: 'message.keyword',
  'error.message': 'error.message.keyword',
  'error.stack_trace': 'error.stack_trace.keyword',
};

function exact(field: string): string {
  return KEYWORD_SUBFIELD[field] ?? field;
}

/** Escapes the wildcard query's own syntax (`*`, `?`, `\`) so the text matches literally. */
function escapeWildcard(text: string): string {
  return text.replace(/[\\*?]/g, '\\$&');
}

export function compileFilter(f: Filter): Record<string, unknown> {
  switch (f.op) {
    case 'eq':
      return f.caseInsensitive
        ? { term: { [f.field]: { value: f.value, case_insensitive: true } } }
        : { term: { [f.field]: { value: f.field.startsWith('params.') ? String(f.value) : f.value } } };
    case 'in':
      return { terms: { [f.field]: f.field.startsWith('params.') ? f.values.map(String) : f.values } };
    case 'range':
      return { range: { [f.field]: { ...(f.gte !== undefined ? { gte: f.gte } : {}), ...(f.lte !== undefined ? { lte: f.lte } : {}) } } };
    case 'cidr':
      return { term: { 'source.ip': { value: f.value } } };
    case 'phrase':
      return { match_phrase: { message: { query: f.value } } };
    case 'prefix':
      return { prefix: { [exact(f.field)]: { value: f.value } } };
    case 'contains':
      return { wildcard: { [exact(f.field)]: { value: `*${escapeWildcard(f.value)}*` } } };
    case 'wildcard':
      // `*` and `?` are the pattern; a backslash is a literal character.
      return { wildcard: { [exact(f.field as TextField)]: { value: f.value.replace(/\\/g, '\\\\') } } };
    case 'exists':
      return { exists: { field: exact(f.field) } };
    case 'not':
      return { bool: { must_not: [compileFilter(f.filter)] } };
    case 'any':
      return { bool: { should: f.filters.map(compileFilter), minimum_should_match: 1 } };
  }
}

export function compileQuery(query: LogQuery): Record<string, unknown> {
  const filter = query.filters.map(compileFilter);
  if (query.time && (query.time.gte || query.time.lt)) {
    filter.push({
      range: {
        '@timestamp': {
          ...(query.time.gte ? { gte: query.time.gte } : {}),
          ...(query.time.lt ? { lt: query.time.lt } : {}),
          format: 'strict_date_optional_time',
        },
      },
    });
  }
  return filter.length ? { bool: { filter } } : { match_all: {} };
}

/** LogQuery → the `_search` request body. Pure: the same query always gives the same body. */
export function compileSearchBody(query: LogQuery): EsSearchBody {
  const body: EsSearchBody = { query: compileQuery(query), track_total_hits: true };
  const shape = query.shape;
  switch (shape.kind) {
    case 'list': {
      const order = shape.order ?? 'desc';
      body.size = shape.limit;
      if (shape.offset) body.from = shape.offset;
      body.sort = [{ '@timestamp': { order } }, { 'log.file.path': { order } }, { 'log.file.line': { order } }];
      if (shape.after) body.search_after = shape.after;
      break;
    }
    case 'count':
      body.size = 0;
      break;
    case 'terms': {
      const field = exact(shape.field);
      body.size = 0;
      body.aggs = {
        groups: {
          terms: {
            field,
            size: shape.size,
            // Counts are exact on one shard; a larger shard_size keeps them exact on several.
            shard_size: Math.max(shape.size * 10, 1000),
            order: [{ _count: 'desc' }, { _key: 'asc' }],
          },
        },
        with_value: { filter: { exists: { field } } },
      };
      break;
    }
    case 'histogram': {
      body.size = 0;
      const histogram: Record<string, unknown> = {
        field: '@timestamp',
        calendar_interval: shape.interval === 'hour' ? '1h' : '1d',
        time_zone: shape.timeZone,
        min_doc_count: 0,
      };
      if (query.time?.gte && query.time.lt) {
        // Every bucket of the asked range, empty ones too.
        histogram.extended_bounds = { min: Date.parse(query.time.gte), max: Date.parse(query.time.lt) - 1 };
      }
      body.aggs = { histogram: { date_histogram: histogram } };
      break;
    }
  }
  return body;
}

/** Keyword fields longer than this are stored but not indexed, as the embedded store does too. */
export const IGNORE_ABOVE = MAX_EXACT_TEXT;
