import assert from 'node:assert/strict';
import { ingestPaths } from '../../src/logs/ingest';
import { Hit, LogStore } from '../../src/logs/log-store';
import { loadSourcesConfig } from '../../src/logs/sources';
import { LogQuery, SortKey } from '../../src/query/log-query';
import { storeFixtures } from '../support/stores';
import { SAMPLE_LOGS, truthEvents, truthSource, TruthEvent } from '../support/truth';

/** The fields a truth event carries, as the event model names them. */
function expected(t: TruthEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {
    source: truthSource(t),
    '@timestamp': t.time,
    'host.name': t.node,
    'event.dataset': t.kind,
    'log.level': t.level,
    'log.logger': t.logger,
    message: t.message,
  };
  const optional: [keyof TruthEvent, string, (v: never) => unknown][] = [
    ['userId', 'user.id', (v: number) => String(v)],
    ['login', 'user.name', (v: string) => v],
    ['method', 'http.request.method', (v: string) => v],
    ['path', 'url.path', (v: string) => v],
    ['status', 'http.response.status_code', (v: number) => v],
    ['clientIp', 'source.ip', (v: string) => v],
    ['documentId', 'document.id', (v: number) => String(v)],
    ['documentType', 'document.type', (v: string) => v],
    ['entityId', 'entity.id', (v: number) => String(v)],
    ['params', 'http.request.params', (v: string) => v],
    ['exception', 'error.stack_trace', (v: string) => v],
  ];
  for (const [from, to, map] of optional) out[to] = t[from] === undefined ? undefined : map(t[from] as never);
  return out;
}

async function allEvents(store: LogStore): Promise<Hit[]> {
  const out: Hit[] = [];
  let after: SortKey | undefined;
  for (;;) {
    const query: LogQuery = { filters: [], shape: { kind: 'list', limit: 1000, order: 'asc', ...(after ? { after } : {}) } };
    const page = await store.search(query);
    out.push(...page.hits);
    if (page.hits.length < 1000) return out;
    const last = page.hits[page.hits.length - 1]!;
    after = [Date.parse(last['@timestamp']), last['log.file.path'], last['log.file.line']];
  }
}

for (const fixture of storeFixtures()) {
  describe(`sample data in the ${fixture.name} store`, function () {
    this.timeout(180_000);
    let store: LogStore;
    let dispose: () => Promise<void>;
    const sources = loadSourcesConfig();

    before(async () => {
      ({ store, dispose } = await fixture.make());
    });
    after(async () => dispose());

    it('ingests all 21,780 events with nothing malformed, and a second run adds nothing', async () => {
      const first = await ingestPaths([SAMPLE_LOGS], { store, sources });
      assert.deepEqual(first.malformed, []);
      assert.equal(first.files, 20);
      assert.equal(first.events, 21780);
      assert.equal(first.added, 21780);
      const second = await ingestPaths([SAMPLE_LOGS], { store, sources });
      assert.equal(second.events, 21780);
      assert.equal(second.added, 0);
      assert.equal(await store.size(), 21780);
    });

    it('stores every event exactly as truth/events.jsonl says', async () => {
      const hits = await allEvents(store);
      const truth = truthEvents();
      assert.equal(hits.length, truth.length);
      const bySource = new Map(hits.map((h) => [h.source, h]));
      assert.equal(bySource.size, truth.length, 'every event has its own provenance');
      let checked = 0;
      for (const t of truth) {
        const hit = bySource.get(truthSource(t));
        assert.ok(hit, `missing ${t.source}`);
        const want = expected(t);
        const got: Record<string, unknown> = {};
        for (const key of Object.keys(want)) got[key] = (hit as unknown as Record<string, unknown>)[key];
        assert.deepEqual(got, want, `event ${t.source}`);
        checked++;
      }
      assert.equal(checked, 21780);
    });

    it('keeps request parameters queryable by key and the duration in nanoseconds', async () => {
      const withParams = await store.search({
        filters: [{ op: 'exists', field: 'params.isAcknowledged' }],
        shape: { kind: 'list', limit: 1 },
      });
      const expectedCount = truthEvents().filter((t) => t.params && 'isAcknowledged' in (JSON.parse(t.params) as object)).length;
      assert.ok(expectedCount > 0);
      assert.equal(withParams.total, expectedCount);
      const hit = withParams.hits[0]!;
      assert.equal(typeof hit.params?.isAcknowledged, 'string');
      const slow = await store.search({ filters: [{ op: 'range', field: 'event.duration', gte: 6_000 * 1e6 }], shape: { kind: 'count' } });
      assert.ok(slow.total > 0);
    });
  });
}
