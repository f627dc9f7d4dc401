import assert from 'node:assert/strict';
import { createServer, Server } from 'node:http';
import { createServer as createTcpServer, Server as TcpServer, Socket } from 'node:net';
import { join } from 'node:path';
import { loadUserDirectory } from '../../src/directory/user-directory';
import { StoreUnavailableError } from '../../src/logs/log-store';
import { SqliteLogStore } from '../../src/logs/sqlite/sqlite-log-store';
import { ingestPaths } from '../../src/logs/ingest';
import { loadSourcesConfig } from '../../src/logs/sources';
import { Asker } from '../../src/query/ask';
import { cli, storeEnv } from '../support/cli';
import { deleteIndex, elasticsearchSkipped, tempDir, uniqueSuffix } from '../support/stores';
import { SAMPLE_DIRECTORY, SAMPLE_LOGS } from '../support/truth';

const NOW = ['--now', '2020-06-12T16:30:00+02:00', '--tz', 'Europe/Berlin'];

interface AskJson {
  question: string;
  interpretation: string;
  query: unknown;
  total: number;
  hits: Record<string, unknown>[];
  buckets?: { key: string; count: number }[];
  elasticsearch: Record<string, unknown>;
}

const kinds: ('sqlite' | 'elasticsearch')[] = elasticsearchSkipped() ? ['sqlite'] : ['sqlite', 'elasticsearch'];
const answers: Record<string, AskJson[]> = {};

const QUESTIONS = [
  'show errors for user 1087 today',
  'how many failed logins yesterday',
  'count errors by node this week',
  'show logs for document 11213',
  'errors per hour today',
  'top 5 errors this week',
  'show "Failed to perform." errors since Wednesday',
  'errors from 198.51.100.34',
];

for (const kind of kinds) {
  describe(`supportbot ask (${kind})`, function () {
    this.timeout(120_000);
    const dir = tempDir();
    const index = `test-ask-${uniqueSuffix()}`;
    const env = storeEnv(kind, join(dir.path, 'data'), index);

    before(async () => {
      const r = await cli(['ingest', SAMPLE_LOGS], env);
      assert.equal(r.code, 0, r.stderr);
    });
    after(async () => {
      dir.remove();
      if (kind === 'elasticsearch') await deleteIndex(index);
    });

    it('prints the documented JSON for the examples of the issue', async () => {
      answers[kind] = [];
      for (const q of QUESTIONS) {
        const r = await cli(['ask', q, ...NOW, '--json'], env);
        assert.equal(r.code, 0, `${q}: ${r.stdout} ${r.stderr}`);
        const json = r.json<AskJson>();
        assert.deepEqual(Object.keys(json), ['question', 'interpretation', 'query', 'total', 'hits', ...(json.buckets ? ['buckets'] : []), 'elasticsearch']);
        assert.equal(json.question, q);
        answers[kind]!.push(json);
      }
      const first = answers[kind]![0]!;
      assert.equal(first.interpretation, 'errors for user 1087, Fri 12 Jun 2020 00:00–16:30 Europe/Berlin');
      assert.equal(first.total, 2);
      assert.deepEqual(first.hits.map((h) => [h.source, h['http.response.status_code'], h['document.id']]), [
        ['APP01/api/2020-06-12.log:878', 403, '11213'],
        ['APP01/api/2020-06-12.log:866', 403, '11213'],
      ]);
      assert.ok(answers[kind]![1]!.total > 0);
      assert.deepEqual(answers[kind]![2]!.buckets!.map((b) => b.key).sort(), ['APP01', 'APP02']);
      assert.equal(answers[kind]![4]!.buckets!.length, 17, 'hours 00 to 16');
      assert.equal(answers[kind]![4]!.buckets![0]!.key, '2020-06-12T00:00:00.000+02:00');
    });

    it('cuts hits at --limit but counts them all', async () => {
      const r = await cli(['ask', 'errors this week', ...NOW, '--limit', '3', '--json'], env);
      const json = r.json<AskJson>();
      assert.equal(json.hits.length, 3);
      assert.ok(json.total > 3);
      assert.equal((json.elasticsearch as { size: number }).size, 3);
    });

    it('prints a readable table by default', async () => {
      const r = await cli(['ask', 'show errors for user 1087 today', ...NOW], env);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /Understood: errors for user 1087, Fri 12 Jun 2020 00:00–16:30 Europe\/Berlin/);
      assert.match(r.stdout, /2020-06-12 12:57:15 {2}error {2}1087 +Not authorized +APP01\/api\/2020-06-12\.log:866/);
    });

    it('explains what it did not understand and exits 1', async () => {
      const r = await cli(['ask', 'errors for nobody OR *:*', ...NOW], env);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /I could not answer that: .*'nobody'.*'OR'/);
      assert.match(r.stdout, /Try for example:\n {2}show errors for user 1087 today/);
      const json = await cli(['ask', 'user.id:*', ...NOW, '--json'], env);
      assert.equal(json.code, 1);
      assert.ok(json.json<{ problems: string[] }>().problems.length > 0);
    });

    it('rejects bad options with a clear message', async () => {
      assert.equal((await cli(['ask', 'errors', '--now', 'yesterday'], env)).code, 2);
      assert.match((await cli(['ask', 'errors', '--tz', 'Mars/Base'], env)).stderr, /not an IANA time zone/);
      assert.match((await cli(['ask', 'errors', '--limit', '-1'], env)).stderr, /--limit must be/);
    });
  });
}

describe('supportbot ask: both stores give the same answers', () => {
  it('for every example', function () {
    if (kinds.length < 2) this.skip();
    assert.deepEqual(answers.elasticsearch, answers.sqlite);
  });
});

describe('a log store that is down', function () {
  this.timeout(60_000);
  let http: Server;
  let silent: TcpServer;
  const sockets: Socket[] = [];
  let port5xx = 0;
  let portSilent = 0;

  before(async () => {
    http = createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"error":{"type":"cluster_block_exception","reason":"blocked by: [SERVICE_UNAVAILABLE/1/state not recovered]"},"status":503}');
    });
    silent = createTcpServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    port5xx = (http.address() as { port: number }).port;
    portSilent = (silent.address() as { port: number }).port;
  });
  after(() => {
    http.close();
    for (const s of sockets) s.destroy();
    silent.close();
  });

  for (const [name, url] of [
    ['unreachable', () => 'http://127.0.0.1:9'],
    ['answering 503', () => `http://127.0.0.1:${port5xx}`],
    ['not answering (timeout)', () => `http://127.0.0.1:${portSilent}`],
  ] as const) {
    it(`says the store is unavailable, without a stack trace, and exits 3: ${name}`, async () => {
      const dir = tempDir();
      try {
        const started = Date.now();
        const r = await cli(['ask', 'errors today'], { SUPPORTBOT_DATA_DIR: dir.path, ELASTICSEARCH_URL: url(), SUPPORTBOT_SEARCH_TIMEOUT_MS: '1000' });
        assert.equal(r.code, 3);
        assert.match(r.stderr, /The log store is unavailable right now\. Please try again/);
        assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at \S+ \(/, 'no stack trace');
        assert.ok(Date.now() - started < 15_000, 'cut at the timeout');
      } finally {
        dir.remove();
      }
    });
  }

  it('cuts a slow embedded-store query at the configured timeout', async () => {
    const dir = tempDir();
    const store = new SqliteLogStore({ file: join(dir.path, 'logs.db'), timeoutMs: 0 });
    try {
      await ingestPaths([SAMPLE_LOGS], { store, sources: loadSourcesConfig() });
      const asker = new Asker(store, loadUserDirectory(SAMPLE_DIRECTORY));
      const parsed = await asker.parse('all logs', { timeZone: 'UTC' }).catch((e: unknown) => e);
      // The vocabulary lookup itself runs into the timeout, as any query does.
      assert.ok(parsed instanceof StoreUnavailableError);
      await assert.rejects(store.search({ filters: [], shape: { kind: 'list', limit: 10 } }), StoreUnavailableError);
    } finally {
      await store.close();
      dir.remove();
    }
  });
});
