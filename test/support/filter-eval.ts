import { BlockList, isIP } from 'node:net';
import { Filter } from '../../src/query/log-query';
import { TruthEvent } from './truth';

/**
 * A plain-JavaScript evaluator of LogQuery filters over truth events, written apart from both
 * stores and from ingest, so a test can say which events a rule's filters select without trusting
 * the code that normally answers that question.
 */

/** A truth event under the event model's field names; `params` by key, values as text. */
export type EvalEvent = Record<string, string | number | undefined> & { params?: Record<string, string> };

/** The truth file's names → the event model's (the same mapping as test/logs/sample-truth.test.ts). */
export function truthToEvent(t: TruthEvent): EvalEvent {
  const event: EvalEvent = {
    '@timestamp': t.time,
    'host.name': t.node,
    'event.dataset': t.kind,
    'log.level': t.level,
    'log.logger': t.logger,
    message: t.message,
    'user.id': t.userId === undefined ? undefined : String(t.userId),
    'user.name': t.login,
    'http.request.method': t.method,
    'url.path': t.path,
    'http.response.status_code': t.status,
    'source.ip': t.clientIp,
    'document.id': t.documentId === undefined ? undefined : String(t.documentId),
    'document.type': t.documentType,
    'entity.id': t.entityId === undefined ? undefined : String(t.entityId),
    'http.request.params': t.params,
    'error.stack_trace': t.exception,
  };
  if (t.path !== undefined) event['http.route'] = t.path.replace(/\/\d+(?=\/|$)/g, '/{id}');
  if (t.exception !== undefined) {
    // `.NET` exception text starts with `Type: message`.
    const first = /^([\w.`]+)(?::\s?(.*))?$/.exec(t.exception.split('\n', 1)[0]!);
    if (first) {
      event['error.type'] = first[1];
      if (first[2]) event['error.message'] = first[2];
    }
  }
  if (t.params !== undefined) {
    const parsed = JSON.parse(t.params) as Record<string, unknown>;
    event.params = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : v === null ? 'null' : JSON.stringify(v)]));
  }
  return event;
}

function valueOf(event: EvalEvent, field: string): string | number | undefined {
  if (field.startsWith('params.')) return event.params?.[field.slice('params.'.length)];
  return event[field];
}

/** Words, lower case: letters and digits runs. Enough for the phrases the rules and chat use. */
function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function foldAscii(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function inBlock(ip: string, block: string): boolean {
  const [address, bits] = block.split('/') as [string, string | undefined];
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  const list = new BlockList();
  if (bits === undefined) list.addAddress(address, family);
  else list.addSubnet(address, Number(bits), family);
  return isIP(ip) !== 0 && list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

function wildcardRegExp(pattern: string): RegExp {
  const body = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 'su');
}

/** Whether one event satisfies one filter. */
export function matchesFilter(filter: Filter, event: EvalEvent): boolean {
  switch (filter.op) {
    case 'eq': {
      const v = valueOf(event, filter.field);
      if (v === undefined) return false;
      if (filter.caseInsensitive && typeof v === 'string' && typeof filter.value === 'string') return foldAscii(v) === foldAscii(filter.value);
      return v === filter.value;
    }
    case 'in': {
      const v = valueOf(event, filter.field);
      return v !== undefined && filter.values.includes(v);
    }
    case 'range': {
      const v = valueOf(event, filter.field);
      return typeof v === 'number' && (filter.gte === undefined || v >= filter.gte) && (filter.lte === undefined || v <= filter.lte);
    }
    case 'cidr': {
      const v = valueOf(event, 'source.ip');
      return typeof v === 'string' && inBlock(v, filter.value);
    }
    case 'phrase': {
      const have = words(String(valueOf(event, 'message') ?? ''));
      const want = words(filter.value);
      return want.length > 0 && have.some((_, i) => want.every((w, k) => have[i + k] === w));
    }
    case 'prefix':
    case 'contains':
    case 'wildcard': {
      const v = valueOf(event, filter.field);
      if (typeof v !== 'string') return false;
      if (filter.op === 'prefix') return v.startsWith(filter.value);
      if (filter.op === 'contains') return v.includes(filter.value);
      return wildcardRegExp(filter.value).test(v);
    }
    case 'exists':
      return valueOf(event, filter.field) !== undefined;
    case 'not':
      return !matchesFilter(filter.filter, event);
    case 'any':
      return filter.filters.some((f) => matchesFilter(f, event));
  }
}

/** Whether an event satisfies every filter (a LogQuery's `filters`). */
export function matchesAll(filters: Filter[], event: EvalEvent): boolean {
  return filters.every((f) => matchesFilter(f, event));
}
