/**
 * The LogStore contract: one suite, run against the embedded SQLite store and a real
 * Elasticsearch node. Every case states the exact answer; both stores must give it.
 */
import assert from 'node:assert/strict';
import { LogEvent } from '../../src/logs/log-event';
import { LogStore, SearchResult } from '../../src/logs/log-store';
import { eventId } from '../../src/logs/nlog-parser';
import { Filter, LogQuery } from '../../src/query/log-query';
import { storeFixtures } from '../support/stores';

let line = 0;
function ev(time: string, fields: Partial<LogEvent> = {}): { id: string; event: LogEvent } {
  line++;
  const event: LogEvent = {
    '@timestamp': new Date(time).toISOString(),
    'log.level': 'info',
    message: 'ok',
    'log.file.path': fields['log.file.path'] ?? 'N1/api/x.log',
    'log.file.line': line,
    ...fields,
  };
  return { id: eventId(event['log.file.path'], event['log.file.line'], `${time}${line}`), event };
}

const LONG = 'x'.repeat(9000);

// 21 events over two days in June plus the October DST change; see each case for what matters.
const EVENTS = [
  ev('2020-06-10T08:00:00Z', { 'log.level': 'error', message: 'Not authorized', 'user.id': '1087', 'http.response.status_code': 403, 'document.id': '11213', 'url.path': '/api/documents/11213', 'http.route': '/api/documents/{id}', 'host.name': 'APP01', 'source.ip': '10.20.9.47', 'event.dataset': 'api' }),
  ev('2020-06-10T08:05:00Z', { 'log.level': 'error', message: 'Not authorized', 'user.id': '1087', 'http.response.status_code': 403, 'document.id': '11213', 'url.path': '/api/documents/11213', 'http.route': '/api/documents/{id}', 'host.name': 'APP02', 'source.ip': '10.20.3.126', 'event.dataset': 'api' }),
  ev('2020-06-10T08:10:00Z', { 'log.level': 'error', message: 'Failed to perform.', 'user.id': '1033', 'http.response.status_code': 422, 'entity.id': '5230', 'url.path': '/api/entities/5230', 'http.route': '/api/entities/{id}', 'host.name': 'APP01', params: { hours: '3' }, 'http.request.params': '{"hours":3}', 'event.dataset': 'api' }),
  ev('2020-06-10T08:11:00Z', { 'log.level': 'error', message: 'Failed to perform.', 'user.id': '1033', 'http.response.status_code': 422, 'entity.id': '5230', 'url.path': '/api/entities/5230', 'http.route': '/api/entities/{id}', 'host.name': 'APP02', params: { hours: '3', isAcknowledged: 'true' }, 'event.dataset': 'api' }),
  ev('2020-06-10T09:00:00Z', { 'log.level': 'warn', message: "Login failed for user 'y.larsen' (id 1155) from 10.20.5.122: invalid credentials", 'user.id': '1155', 'user.name': 'y.larsen', 'source.ip': '10.20.5.122', 'host.name': 'APP01', 'event.dataset': 'auth' }),
  ev('2020-06-10T09:01:00Z', { 'log.level': 'error', message: "Login failed for user 'v.silva3' (id 1217) from 198.51.100.34: unsupported client", 'user.id': '1217', 'source.ip': '198.51.100.34', 'host.name': 'APP02', 'event.dataset': 'auth', 'error.type': 'System.FormatException', 'error.stack_trace': 'System.FormatException: bad\n   at Contoso.Auth.PasswordHasher.Normalize(String password)' }),
  ev('2020-06-10T09:02:00Z', { 'log.level': 'info', message: "Login succeeded for user 'z.nguyen' (id 1237) from 198.51.100.200", 'user.id': '1237', 'source.ip': '198.51.100.200', 'host.name': 'APP01', 'event.dataset': 'auth' }),
  ev('2020-06-10T09:03:00Z', { 'log.level': 'info', message: 'Login succeeded from 2001:db8::1', 'source.ip': '2001:db8::1', 'host.name': 'APP01', 'event.dataset': 'auth' }),
  ev('2020-06-10T10:00:00Z', { 'log.level': 'fatal', message: 'Database timeout after 30000 ms', 'http.response.status_code': 500, 'host.name': 'APP02', 'event.dataset': 'api', 'user.id': '1004' }),
  ev('2020-06-10T10:00:00Z', { 'log.level': 'error', message: 'Report generation failed: e.g. a timeout', 'http.response.status_code': 503, 'host.name': 'APP01', 'event.dataset': 'api', 'user.id': '1004' }),
  ev('2020-06-10T10:30:00Z', { 'log.level': 'debug', message: 'Cache warm: 100% [ok] *special* a?b', 'host.name': 'APP01' }),
  ev('2020-06-10T11:00:00Z', { 'log.level': 'info', message: LONG, 'host.name': 'APP01' }),
  ev('2020-06-10T11:30:00Z', { 'log.level': 'info', message: 'Ünïcödé Straße ΣΟΦΟΣ 日本', 'host.name': 'app01' }),
  ev('2020-06-11T07:00:00Z', { 'log.level': 'info', message: 'Listed documents', 'user.id': '1087', 'http.response.status_code': 200, 'url.path': '/api/documents', 'http.route': '/api/documents', 'host.name': 'APP01', 'event.dataset': 'api' }),
  ev('2020-06-11T07:00:00Z', { 'log.level': 'info', message: 'Listed documents', 'user.id': '1088', 'http.response.status_code': 200, 'url.path': '/api/documents', 'http.route': '/api/documents', 'host.name': 'APP02', 'event.dataset': 'api', 'log.file.path': 'N2/api/x.log' }),
  ev('2020-06-11T07:30:00Z', { 'log.level': 'warn', message: 'Generated weekly report (slow request)', 'user.id': '1181', 'http.response.status_code': 200, 'event.duration': 6_033_000_000, 'host.name': 'APP01', 'event.dataset': 'api' }),
  ev('2020-06-11T23:59:59.999Z', { 'log.level': 'info', message: 'last of the day UTC', 'host.name': 'APP01' }),
  ev('2020-10-24T23:30:00Z', { 'log.level': 'error', message: 'dst a', 'host.name': 'APP01' }),
  ev('2020-10-25T00:30:00Z', { 'log.level': 'error', message: 'dst b (02:30 CEST)', 'host.name': 'APP01' }),
  ev('2020-10-25T01:30:00Z', { 'log.level': 'error', message: 'dst c (02:30 CET)', 'host.name': 'APP01' }),
  ev('2020-10-25T03:10:00Z', { 'log.level': 'error', message: 'dst d', 'host.name': 'APP01' }),
];

const ids = EVENTS.map((e) => e.event['log.file.line']);
function lines(r: SearchResult): number[] {
  return r.hits.map((h) => h['log.file.line']);
}
function count(r: SearchResult): number {
  return r.total;
}
const L = (i: number) => ids[i]!;
const list = (filters: Filter[], extra: Partial<LogQuery> = {}): LogQuery => ({ filters, shape: { kind: 'list', limit: 100 }, ...extra });

/** Which events (by index into EVENTS) a filter must return, newest first. */
const FILTER_CASES: { name: string; filters: Filter[]; expect: number[] }[] = [
  { name: 'eq on keyword', filters: [{ op: 'eq', field: 'user.id', value: '1087' }], expect: [13, 1, 0] },
  { name: 'eq is exact: other case does not match', filters: [{ op: 'eq', field: 'host.name', value: 'app01' }], expect: [12] },
  { name: 'eq caseInsensitive (ASCII)', filters: [{ op: 'eq', field: 'host.name', value: 'app02', caseInsensitive: true }], expect: [14, 8, 5, 3, 1] },
  { name: 'eq on number', filters: [{ op: 'eq', field: 'http.response.status_code', value: 403 }], expect: [1, 0] },
  { name: 'in', filters: [{ op: 'in', field: 'log.level', values: ['error', 'fatal'] }, { op: 'range', field: 'http.response.status_code', gte: 0 }], expect: [9, 8, 3, 2, 1, 0] },
  { name: 'range 5xx', filters: [{ op: 'range', field: 'http.response.status_code', gte: 500, lte: 599 }], expect: [9, 8] },
  { name: 'range on duration', filters: [{ op: 'range', field: 'event.duration', gte: 6_000_000_000 }], expect: [15] },
  { name: 'cidr v4', filters: [{ op: 'cidr', field: 'source.ip', value: '198.51.100.0/24' }], expect: [6, 5] },
  { name: 'single ip', filters: [{ op: 'cidr', field: 'source.ip', value: '10.20.9.47' }], expect: [0] },
  { name: 'cidr v6', filters: [{ op: 'cidr', field: 'source.ip', value: '2001:db8::/32' }], expect: [7] },
  { name: 'phrase, case and punctuation ignored', filters: [{ op: 'phrase', field: 'message', value: 'failed to PERFORM' }], expect: [3, 2] },
  { name: 'phrase keeps word order', filters: [{ op: 'phrase', field: 'message', value: 'perform to failed' }], expect: [] },
  { name: 'phrase matches whole words only', filters: [{ op: 'phrase', field: 'message', value: 'authoriz' }], expect: [] },
  { name: 'phrase with a dotted token', filters: [{ op: 'phrase', field: 'message', value: 'e.g. a timeout' }], expect: [9] },
  { name: 'phrase with an IP token', filters: [{ op: 'phrase', field: 'message', value: 'from 10.20.5.122' }], expect: [4] },
  { name: 'phrase in unicode', filters: [{ op: 'phrase', field: 'message', value: 'straße σοφοσ' }], expect: [12] },
  { name: 'phrase finds long messages too', filters: [{ op: 'phrase', field: 'message', value: LONG }], expect: [11] },
  { name: 'prefix is case-sensitive', filters: [{ op: 'prefix', field: 'message', value: 'Login failed' }], expect: [5, 4] },
  { name: 'prefix lower case finds nothing', filters: [{ op: 'prefix', field: 'message', value: 'login failed' }], expect: [] },
  { name: 'contains with wildcard characters is literal', filters: [{ op: 'contains', field: 'message', value: '*special*' }], expect: [10] },
  { name: 'contains ? literal', filters: [{ op: 'contains', field: 'message', value: 'a?b' }], expect: [10] },
  { name: 'contains [ literal', filters: [{ op: 'contains', field: 'message', value: '[ok]' }], expect: [10] },
  { name: 'contains skips values longer than 8191', filters: [{ op: 'contains', field: 'message', value: 'xxx' }], expect: [] },
  { name: 'contains on stack trace', filters: [{ op: 'contains', field: 'error.stack_trace', value: 'at Contoso.Auth.PasswordHasher.' }], expect: [5] },
  { name: 'wildcard on a path', filters: [{ op: 'wildcard', field: 'url.path', value: '/api/entities/*' }], expect: [3, 2] },
  { name: 'wildcard ? is one character', filters: [{ op: 'wildcard', field: 'document.id', value: '1121?' }], expect: [1, 0] },
  { name: 'wildcard [ is literal', filters: [{ op: 'wildcard', field: 'message', value: '*[ok]*' }], expect: [10] },
  { name: 'exists on a field', filters: [{ op: 'exists', field: 'entity.id' }], expect: [3, 2] },
  { name: 'param present', filters: [{ op: 'exists', field: 'params.isAcknowledged' }], expect: [3] },
  { name: 'param missing', filters: [{ op: 'exists', field: 'params.hours' }, { op: 'not', filter: { op: 'exists', field: 'params.isAcknowledged' } }], expect: [2] },
  { name: 'param equals (numbers compare as their text)', filters: [{ op: 'eq', field: 'params.hours', value: 3 }], expect: [3, 2] },
  { name: 'not includes events without the field', filters: [{ op: 'not', filter: { op: 'eq', field: 'user.id', value: '1087' } }, { op: 'eq', field: 'log.level', value: 'debug' }], expect: [10] },
  { name: 'not on a number', filters: [{ op: 'not', filter: { op: 'eq', field: 'http.response.status_code', value: 200 } }, { op: 'eq', field: 'user.id', value: '1087' }], expect: [1, 0] },
  { name: 'any', filters: [{ op: 'any', filters: [{ op: 'eq', field: 'user.id', value: '1155' }, { op: 'eq', field: 'user.id', value: '1217' }] }], expect: [5, 4] },
  { name: 'not any (missing field counts as not matching)', filters: [{ op: 'not', filter: { op: 'any', filters: [{ op: 'eq', field: 'host.name', value: 'APP01' }, { op: 'eq', field: 'host.name', value: 'APP02' }] } }], expect: [12] },
  { name: 'number against a word finds nothing', filters: [{ op: 'eq', field: 'user.id', value: '1087 OR 1=1' }], expect: [] },
];

for (const fixture of storeFixtures()) {
  describe(`LogStore contract: ${fixture.name}`, function () {
    this.timeout(60_000);
    let store: LogStore;
    let dispose: () => Promise<void>;

    before(async () => {
      ({ store, dispose } = await fixture.make());
      const result = await store.write(EVENTS);
      assert.equal(result.added, EVENTS.length);
      await store.refresh();
    });
    after(async () => dispose());

    it('writing the same ids again adds nothing and replaces the event', async () => {
      const changed = { ...EVENTS[16]!, event: { ...EVENTS[16]!.event, message: 'last of the day UTC (more of its stack trace)' } };
      const again = await store.write([EVENTS[15]!, changed]);
      assert.equal(again.added, 0);
      await store.refresh();
      assert.equal(await store.size(), EVENTS.length);
      const r = await store.search(list([{ op: 'phrase', field: 'message', value: 'more of its stack' }]));
      assert.deepEqual(lines(r), [L(16)]);
      await store.write([EVENTS[16]!]);
      await store.refresh();
    });

    for (const c of FILTER_CASES) {
      it(`filter: ${c.name}`, async () => {
        const r = await store.search(list(c.filters));
        assert.deepEqual(lines(r), c.expect.map(L));
        assert.equal(count(r), c.expect.length);
      });
    }

    it('time range: gte inclusive, lt exclusive', async () => {
      const r = await store.search(list([], { time: { gte: '2020-06-10T10:00:00.000Z', lt: '2020-06-11T07:00:00.000Z' } }));
      assert.deepEqual(lines(r), [12, 11, 10, 9, 8].map(L));
    });

    it('lists newest first, ties by path then line (descending), with total beyond the page', async () => {
      const r = await store.search({ filters: [], time: { gte: '2020-06-11T00:00:00.000Z', lt: '2020-06-12T00:00:00.000Z' }, shape: { kind: 'list', limit: 2 } });
      assert.equal(r.total, 4);
      assert.deepEqual(lines(r), [L(16), L(15)]);
      const same = await store.search({ filters: [{ op: 'phrase', field: 'message', value: 'Listed documents' }], shape: { kind: 'list', limit: 5 } });
      assert.deepEqual(lines(same), [L(14), L(13)], 'N2/... sorts after N1/... descending');
    });

    it('pages with offset and continues with after (ascending scan)', async () => {
      const page2 = await store.search({ filters: [], shape: { kind: 'list', limit: 3, offset: 3 } });
      const all = await store.search({ filters: [], shape: { kind: 'list', limit: 100 } });
      assert.deepEqual(lines(page2), lines(all).slice(3, 6));
      const asc = await store.search({ filters: [], shape: { kind: 'list', limit: 5, order: 'asc' } });
      const last = asc.hits[4]!;
      const next = await store.search({
        filters: [],
        shape: { kind: 'list', limit: 5, order: 'asc', after: [Date.parse(last['@timestamp']), last['log.file.path'], last['log.file.line']] },
      });
      assert.deepEqual(lines(next), [...lines(all)].reverse().slice(5, 10));
    });

    it('counts', async () => {
      const r = await store.search({ filters: [{ op: 'in', field: 'log.level', values: ['error', 'fatal'] }], shape: { kind: 'count' } });
      assert.deepEqual({ total: r.total, hits: r.hits }, { total: 11, hits: [] });
    });

    it('groups: count descending, then key ascending; otherCount; numbers and IPs as text', async () => {
      const byUser = await store.search({ filters: [], shape: { kind: 'terms', field: 'user.id', size: 3 } });
      assert.deepEqual(byUser.buckets, [
        { key: '1087', count: 3 },
        { key: '1004', count: 2 },
        { key: '1033', count: 2 },
      ]);
      assert.equal(byUser.otherCount, 5);
      assert.equal(byUser.total, EVENTS.length);
      const byStatus = await store.search({ filters: [], shape: { kind: 'terms', field: 'http.response.status_code', size: 10 } });
      assert.deepEqual(byStatus.buckets, [
        { key: '200', count: 3 },
        { key: '403', count: 2 },
        { key: '422', count: 2 },
        { key: '500', count: 1 },
        { key: '503', count: 1 },
      ]);
      const byIp = await store.search({ filters: [{ op: 'exists', field: 'source.ip' }], shape: { kind: 'terms', field: 'source.ip', size: 10 } });
      assert.deepEqual(byIp.buckets!.map((b) => b.key), ['10.20.3.126', '10.20.5.122', '10.20.9.47', '198.51.100.34', '198.51.100.200', '2001:db8::1']);
      const byMessage = await store.search({ filters: [{ op: 'eq', field: 'host.name', value: 'APP01' }, { op: 'eq', field: 'log.level', value: 'info' }], shape: { kind: 'terms', field: 'message', size: 10 } });
      assert.ok(!byMessage.buckets!.some((b) => b.key === LONG), 'values longer than 8191 characters are not grouped');
      assert.equal(byMessage.otherCount, 0);
    });

    it('histogram per hour in a time zone, empty buckets across the asked range', async () => {
      const r = await store.search({
        filters: [{ op: 'in', field: 'log.level', values: ['error', 'fatal'] }],
        time: { gte: '2020-06-10T06:00:00.000Z', lt: '2020-06-10T09:30:00.000Z' },
        shape: { kind: 'histogram', interval: 'hour', timeZone: 'Europe/Berlin' },
      });
      assert.deepEqual(r.buckets, [
        { key: '2020-06-10T08:00:00.000+02:00', count: 0 },
        { key: '2020-06-10T09:00:00.000+02:00', count: 0 },
        { key: '2020-06-10T10:00:00.000+02:00', count: 4 },
        { key: '2020-06-10T11:00:00.000+02:00', count: 1 },
      ]);
      assert.equal(r.total, 5);
    });

    it('histogram over the end of summer time: the repeated hour is two buckets; days are local days', async () => {
      const dst = { gte: '2020-10-24T23:00:00.000Z', lt: '2020-10-25T04:00:00.000Z' };
      const hours = await store.search({ filters: [], time: dst, shape: { kind: 'histogram', interval: 'hour', timeZone: 'Europe/Berlin' } });
      assert.deepEqual(hours.buckets, [
        { key: '2020-10-25T01:00:00.000+02:00', count: 1 },
        { key: '2020-10-25T02:00:00.000+02:00', count: 1 },
        { key: '2020-10-25T02:00:00.000+01:00', count: 1 },
        { key: '2020-10-25T03:00:00.000+01:00', count: 0 },
        { key: '2020-10-25T04:00:00.000+01:00', count: 1 },
      ]);
      const days = await store.search({ filters: [], shape: { kind: 'histogram', interval: 'day', timeZone: 'America/New_York' }, time: { gte: '2020-06-10T00:00:00.000Z', lt: '2020-06-12T12:00:00.000Z' } });
      assert.deepEqual(days.buckets, [
        { key: '2020-06-09T00:00:00.000-04:00', count: 0 },
        { key: '2020-06-10T00:00:00.000-04:00', count: 13 },
        { key: '2020-06-11T00:00:00.000-04:00', count: 4 },
        { key: '2020-06-12T00:00:00.000-04:00', count: 0 },
      ]);
    });

    it('histogram without a time range spans the matching events', async () => {
      const r = await store.search({ filters: [{ op: 'phrase', field: 'message', value: 'Listed documents' }], shape: { kind: 'histogram', interval: 'day', timeZone: 'UTC' } });
      assert.deepEqual(r.buckets, [{ key: '2020-06-11T00:00:00.000Z', count: 2 }]);
      const none = await store.search({ filters: [{ op: 'eq', field: 'user.id', value: 'nobody' }], shape: { kind: 'histogram', interval: 'day', timeZone: 'UTC' } });
      assert.deepEqual(none.buckets, []);
    });
  });
}
