/**
 * Accuracy: plain-language questions over the Contoso sample, answered by each store, compared with
 * answers computed here from truth/events.jsonl with plain JavaScript (nothing typed in by hand).
 * "Now" is Fri 12 Jun 2020 16:30 in Europe/Berlin.
 */
import assert from 'node:assert/strict';
import { DateTime } from 'luxon';
import { loadUserDirectory } from '../../src/directory/user-directory';
import { Asker } from '../../src/query/ask';
import { sampleStore, storeFixtures } from '../support/stores';
import { SAMPLE_DIRECTORY, truthEvents, truthSource, TruthEvent } from '../support/truth';

const ZONE = 'Europe/Berlin';
const NOW = DateTime.fromISO('2020-06-12T16:30:00', { zone: ZONE });
const LIMIT = 50;

interface E extends TruthEvent {
  ts: number;
  src: string;
  file: string;
  line: number;
}

const events: E[] = truthEvents().map((t) => {
  const src = truthSource(t);
  const cut = src.lastIndexOf(':');
  return { ...t, ts: Date.parse(t.time), src, file: src.slice(0, cut), line: Number(src.slice(cut + 1)) };
});
const directory = loadUserDirectory(SAMPLE_DIRECTORY);

// Predicates and windows, written from the meaning of the words, evaluated on the truth.
const local = (iso: string) => DateTime.fromISO(iso, { zone: ZONE }).toMillis();
const day = (date: string): [number, number] => [local(`${date}T00:00`), DateTime.fromISO(`${date}T00:00`, { zone: ZONE }).plus({ days: 1 }).toMillis()];
const nowMs = NOW.toMillis();
const TODAY = day('2020-06-12').map((x) => Math.min(x, nowMs)) as [number, number];
const YESTERDAY = day('2020-06-11');
const THIS_WEEK: [number, number] = [local('2020-06-08T00:00'), nowMs];
const SINCE_WED: [number, number] = [local('2020-06-10T00:00'), nowMs];
const ALL: [number, number] = [-Infinity, Infinity];
const within = ([a, b]: [number, number]) => (e: E) => e.ts >= a && e.ts < b;
const error = (e: E) => e.level === 'error' || e.level === 'fatal';
const warn = (e: E) => e.level === 'warn';
const failedLogin = (e: E) => e.kind === 'auth' && e.message.startsWith('Login failed');
const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+(?:[.'_:][\p{L}\p{N}]+)*/gu) ?? [];
const hasPhrase = (phrase: string) => (e: E) => ` ${words(e.message).join(' ')} `.includes(` ${words(phrase).join(' ')} `);
const route = (path: string) => path.replace(/(?<=\/)\d+(?=\/|$)/g, '{id}');
const and = (...ps: ((e: E) => boolean)[]) => (e: E) => ps.every((p) => p(e));
const not = (p: (e: E) => boolean) => (e: E) => !p(e);
const user = (id: number) => (e: E) => e.userId === id;
const inCidr24 = (prefix: string) => (e: E) => !!e.clientIp && e.clientIp.startsWith(`${prefix}.`);

type Key = (e: E) => string | undefined;
type Expect =
  | { list: (e: E) => boolean; window: [number, number] }
  | { count: (e: E) => boolean; window: [number, number] }
  | { group: Key; where: (e: E) => boolean; window: [number, number]; size?: number; order?: 'numeric' | 'ip' }
  | { histogram: 'hour' | 'day'; where: (e: E) => boolean; window: [number, number] };

const byUser: Key = (e) => (e.userId === undefined ? undefined : String(e.userId));
const byNode: Key = (e) => e.node;
const byStatus: Key = (e) => (e.status === undefined ? undefined : String(e.status));
const byMessage: Key = (e) => e.message;
const byRoute: Key = (e) => (e.path ? route(e.path) : undefined);

const CASES: [string, Expect][] = [
  // The examples of the issue.
  ['show errors for user 1087 today', { list: and(error, user(1087)), window: TODAY }],
  ['how many failed logins yesterday', { count: failedLogin, window: YESTERDAY }],
  ['count errors by node this week', { group: byNode, where: error, window: THIS_WEEK }],
  ['show logs for document 11213', { list: (e) => e.documentId === 11213, window: ALL }],
  ['errors per hour today', { histogram: 'hour', where: error, window: TODAY }],
  ['top 5 errors this week', { group: byMessage, where: error, window: THIS_WEEK, size: 5 }],
  ['show "Failed to perform." errors since Wednesday', { list: and(error, hasPhrase('Failed to perform.')), window: SINCE_WED }],
  ['errors from 198.51.100.34', { list: and(error, (e) => e.clientIp === '198.51.100.34'), window: ALL }],
  // Levels and kinds.
  ['show errors today', { list: error, window: TODAY }],
  ['warnings yesterday', { list: warn, window: YESTERDAY }],
  ['how many warnings this week', { count: warn, window: THIS_WEEK }],
  ['count all logs today', { count: () => true, window: TODAY }],
  ['how many info events yesterday', { count: (e) => e.level === 'info', window: YESTERDAY }],
  ['failed logins today', { list: failedLogin, window: TODAY }],
  ['how many successful logins yesterday', { count: (e) => e.kind === 'auth' && e.message.startsWith('Login succeeded'), window: YESTERDAY }],
  ['problems for user 1181 this week', { list: and((e) => ['warn', 'error', 'fatal'].includes(e.level), user(1181)), window: THIS_WEEK }],
  ['errors and warnings on June 10', { list: (e) => ['warn', 'error', 'fatal'].includes(e.level), window: day('2020-06-10') }],
  // People.
  ['errors for y.larsen', { list: and(error, user(1155)), window: ALL }],
  ['failed logins for v.silva3 this week', { list: and(failedLogin, user(1217)), window: THIS_WEEK }],
  ['show logs for user 1087 yesterday', { list: user(1087), window: YESTERDAY }],
  ['how many events for user 1150 on June 8', { count: user(1150), window: day('2020-06-08') }],
  ['errors for Yusuf Larsen', { list: and(error, user(Number(directory.byLogin('y.larsen')!.userId))), window: ALL }],
  ['count errors by user this week', { group: byUser, where: error, window: THIS_WEEK }],
  ['top 10 users with failed logins', { group: byUser, where: failedLogin, window: ALL, size: 10 }],
  ['errors except user 1087 today', { list: and(error, not(user(1087))), window: TODAY }],
  // Records.
  ['errors on document 11213', { list: and(error, (e) => e.documentId === 11213), window: ALL }],
  ['how many events on entity 5230', { count: (e) => e.entityId === 5230, window: ALL }],
  ['Service Hours Adjustment errors', { list: and(error, (e) => e.documentType === 'Service Hours Adjustment'), window: ALL }],
  ['count errors by document type', { group: (e) => e.documentType, where: error, window: ALL }],
  // Status.
  ['403 errors this week', { list: and(error, (e) => e.status === 403), window: THIS_WEEK }],
  ['forbidden this week', { list: (e) => e.status === 403, window: THIS_WEEK }],
  ['how many 5xx today', { count: (e) => !!e.status && e.status >= 500 && e.status <= 599, window: TODAY }],
  ['count server errors by node', { group: byNode, where: (e) => !!e.status && e.status >= 500, window: ALL }],
  ['errors with status 422 since Wednesday', { list: and(error, (e) => e.status === 422), window: SINCE_WED }],
  ['errors except 403 today', { list: and(error, (e) => e.status !== 403), window: TODAY }],
  ['count errors by status this week', { group: byStatus, where: error, window: THIS_WEEK, order: 'numeric' }],
  ['4xx errors yesterday', { list: and(error, (e) => !!e.status && e.status >= 400 && e.status <= 499), window: YESTERDAY }],
  // Nodes, logs, addresses, paths.
  ['errors on APP02 today', { list: and(error, (e) => e.node === 'APP02'), window: TODAY }],
  ['errors not from APP01 yesterday', { list: and(error, (e) => e.node !== 'APP01'), window: YESTERDAY }],
  ['warnings on node app01 since Wednesday', { list: and(warn, (e) => e.node === 'APP01'), window: SINCE_WED }],
  ['auth errors this week', { list: and(error, (e) => e.kind === 'auth'), window: THIS_WEEK }],
  ['how many api warnings today', { count: and(warn, (e) => e.kind === 'api'), window: TODAY }],
  ['errors in the authentication log yesterday', { list: and(error, (e) => e.kind === 'auth'), window: YESTERDAY }],
  ['errors from 198.51.100.0/24', { list: and(error, inCidr24('198.51.100')), window: ALL }],
  ['how many failed logins from 198.51.100.0/24 this week', { count: and(failedLogin, inCidr24('198.51.100')), window: THIS_WEEK }],
  ['errors on /api/entities today', { list: and(error, (e) => !!e.path && (e.path === '/api/entities' || e.path.startsWith('/api/entities/'))), window: TODAY }],
  ['errors on /api/reports/* yesterday', { list: and(error, (e) => !!e.path && e.path.startsWith('/api/reports/')), window: YESTERDAY }],
  ['count errors by endpoint this week', { group: byRoute, where: error, window: THIS_WEEK }],
  ['count failed logins by client ip', { group: (e) => e.clientIp, where: failedLogin, window: ALL, order: 'ip' }],
  // Message text.
  ['"Not authorized" this week', { list: hasPhrase('Not authorized'), window: THIS_WEEK }],
  ['show "timeout expired" errors', { list: and(error, hasPhrase('timeout expired')), window: ALL }],
  ['how many "slow request" warnings today', { count: and(warn, hasPhrase('slow request')), window: TODAY }],
  ['errors saying "web proxy"', { list: and(error, hasPhrase('web proxy')), window: ALL }],
  ['"weekly report" errors on APP01 this week', { list: and(error, hasPhrase('weekly report'), (e) => e.node === 'APP01'), window: THIS_WEEK }],
  // Time.
  ['errors since yesterday', { list: error, window: [YESTERDAY[0], nowMs] }],
  ['errors in the last 2 hours', { list: error, window: [nowMs - 2 * 3600_000, nowMs] }],
  ['how many errors in the last 3 days', { count: error, window: [NOW.minus({ days: 3 }).toMillis(), nowMs] }],
  ['errors on 2020-06-09', { list: error, window: day('2020-06-09') }],
  ['errors on Tuesday', { list: error, window: day('2020-06-09') }],
  ['how many errors on June 11th', { count: error, window: day('2020-06-11') }],
  ['errors yesterday between 10:00 and 11:30', { list: error, window: [local('2020-06-11T10:00'), local('2020-06-11T11:30')] }],
  ['errors at 12:57', { list: error, window: [local('2020-06-12T12:52'), local('2020-06-12T13:02')] }],
  ['warnings since 9am', { list: warn, window: [local('2020-06-12T09:00'), nowMs] }],
  ['errors last week', { list: error, window: [local('2020-06-01T00:00'), local('2020-06-08T00:00')] }],
  ['errors per day this week', { histogram: 'day', where: error, window: THIS_WEEK }],
  ['failed logins per hour yesterday', { histogram: 'hour', where: failedLogin, window: YESTERDAY }],
  ['how many errors per hour on June 10', { histogram: 'hour', where: error, window: day('2020-06-10') }],
  ['all logs per day', { histogram: 'day', where: () => true, window: ALL }],
];

function sortNewestFirst(a: E, b: E): number {
  return b.ts - a.ts || (a.file < b.file ? 1 : a.file > b.file ? -1 : 0) || b.line - a.line;
}

/** Ties in count are ordered by value: numbers by size, IPv4 addresses by address, text by code point. */
function bucketsOf(key: Key, selected: E[], size: number, order?: 'numeric' | 'ip'): { key: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const e of selected) {
    const k = key(e);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const ipNumber = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  const cmp = (a: string, b: string) =>
    order === 'numeric' ? Number(a) - Number(b) : order === 'ip' ? ipNumber(a) - ipNumber(b) : a < b ? -1 : a > b ? 1 : 0;
  return [...counts].map(([k, count]) => ({ key: k, count })).sort((a, b) => b.count - a.count || cmp(a.key, b.key)).slice(0, size);
}

function histogramOf(interval: 'hour' | 'day', selected: E[], window: [number, number]): { key: string; count: number }[] {
  const counts = new Map<number, number>();
  for (const e of selected) {
    const start = DateTime.fromMillis(e.ts, { zone: ZONE }).startOf(interval).toMillis();
    counts.set(start, (counts.get(start) ?? 0) + 1);
  }
  const first = Number.isFinite(window[0]) ? window[0] : Math.min(...selected.map((e) => e.ts));
  const last = Number.isFinite(window[1]) ? window[1] - 1 : Math.max(...selected.map((e) => e.ts));
  const out: { key: string; count: number }[] = [];
  for (let t = DateTime.fromMillis(first, { zone: ZONE }).startOf(interval); t.toMillis() <= last; t = t.plus({ [`${interval}s`]: 1 })) {
    out.push({ key: t.toISO()!, count: counts.get(t.toMillis()) ?? 0 });
  }
  return out;
}

describe('accuracy: questions over the sample data', () => {
  it(`has at least 60 questions (${CASES.length})`, () => assert.ok(CASES.length >= 60));
});

for (const fixture of storeFixtures()) {
  describe(`accuracy on the ${fixture.name} store`, function () {
    this.timeout(120_000);
    const sample = sampleStore(fixture);
    let asker: Asker;

    before(async () => {
      await sample.before();
      asker = new Asker(sample.get(), directory);
    });
    after(() => sample.after());

    for (const [question, expect] of CASES) {
      it(question, async () => {
        const parsed = await asker.parse(question, { now: NOW.toJSDate(), timeZone: ZONE, limit: LIMIT });
        assert.ok(parsed.ok, `not understood: ${!parsed.ok ? parsed.problems.join(' ') : ''}`);
        const answer = await asker.run(parsed, { timeZone: ZONE });
        if ('list' in expect) {
          const selected = events.filter(and(expect.list, within(expect.window))).sort(sortNewestFirst);
          assert.equal(answer.total, selected.length, parsed.interpretation);
          assert.deepEqual(answer.hits.map((h) => h.source), selected.slice(0, LIMIT).map((e) => e.src));
          if (selected.length) assert.ok(answer.total > 0);
        } else if ('count' in expect) {
          assert.equal(answer.total, events.filter(and(expect.count, within(expect.window))).length, parsed.interpretation);
          assert.equal(answer.buckets, undefined);
        } else if ('group' in expect) {
          const selected = events.filter(and(expect.where, within(expect.window)));
          assert.equal(answer.total, selected.length);
          assert.deepEqual(answer.buckets, bucketsOf(expect.group, selected, expect.size ?? LIMIT, expect.order), parsed.interpretation);
        } else {
          const selected = events.filter(and(expect.where, within(expect.window)));
          assert.equal(answer.total, selected.length);
          assert.deepEqual(answer.buckets, histogramOf(expect.histogram, selected, expect.window), parsed.interpretation);
        }
      });
    }

    it('answers "show errors for user 1087 today" with the two 403 events on document 11213', async () => {
      const parsed = await asker.parse('show errors for user 1087 today', { now: NOW.toJSDate(), timeZone: ZONE });
      assert.ok(parsed.ok);
      const answer = await asker.run(parsed, { timeZone: ZONE });
      assert.equal(answer.interpretation, 'errors for user 1087, Fri 12 Jun 2020 00:00–16:30 Europe/Berlin');
      assert.equal(answer.total, 2);
      assert.deepEqual(answer.hits.map((h) => [h['http.response.status_code'], h['document.id']]), [[403, '11213'], [403, '11213']]);
      assert.deepEqual(answer.hits.map((h) => h.source), ['APP01/api/2020-06-12.log:878', 'APP01/api/2020-06-12.log:866']);
    });
  });
}
