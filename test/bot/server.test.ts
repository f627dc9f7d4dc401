/**
 * The bot's HTTP surface, started by its composition root: health, metrics, the pages the app
 * package links to, anonymous local mode on 127.0.0.1 only, and token checks with credentials.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import sinon from 'sinon';
import { TestAdapter, TurnContext } from 'botbuilder';
import { join } from 'node:path';
import { BotApp, createBotApp } from '../../bot/app';
import { loadConfig } from '../../src/config';
import { memoryLogger } from '../../src/logger';
import { tempDir } from '../support/stores';
import { SqliteLogStore } from '../../src/logs/sqlite/sqlite-log-store';

async function start(env: Record<string, string>): Promise<{ app: BotApp; url: string; dir: ReturnType<typeof tempDir>; logs: ReturnType<typeof memoryLogger> }> {
  const dir = tempDir();
  const logs = memoryLogger();
  const config = loadConfig({ SUPPORTBOT_DATA_DIR: dir.path, ...env });
  const app = await createBotApp(config, { logger: logs, port: 0, alerts: false, logStore: new SqliteLogStore({ file: join(dir.path, 'logs.db') }) });
  const url = await app.start();
  return { app, url, dir, logs };
}

describe('bot server', function () {
  this.timeout(30_000);

  describe('anonymous (local mode)', () => {
    let s: Awaited<ReturnType<typeof start>>;
    before(async () => {
      s = await start({});
    });
    after(async () => {
      await s.app.stop();
      s.dir.remove();
    });

    it('listens on 127.0.0.1 only and says it runs without authentication', () => {
      assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(s.logs.entries.some((e) => String(e.msg).includes('without authentication')));
    });

    it('GET /healthz says whether the log store answers', async () => {
      const r = await fetch(`${s.url}/healthz`);
      assert.equal(r.status, 200);
      assert.deepEqual(((await r.json()) as { status: string; logStore: { kind: string } }).logStore.kind, 'sqlite');
    });

    it('GET /metrics serves Prometheus metrics of the bot', async () => {
      // Somewhere for the bot's reply to go: a connector that accepts anything.
      const connector = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id":"reply-1"}');
      });
      await new Promise<void>((r) => connector.listen(0, '127.0.0.1', r));
      const serviceUrl = `http://127.0.0.1:${(connector.address() as { port: number }).port}`;
      try {
        const r = await fetch(`${s.url}/api/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'message', text: 'help', channelId: 'msteams', serviceUrl, from: { id: 'u' }, recipient: { id: 'b' }, conversation: { id: 'c' } }),
        });
        assert.ok(r.status < 300, String(r.status));
      } finally {
        connector.close();
      }
      const text = await (await fetch(`${s.url}/metrics`)).text();
      assert.match(text, /# TYPE supportbot_activities_total counter/);
      assert.match(text, /supportbot_activities_total\{type="message"\} 1/);
      assert.match(text, /supportbot_process_cpu_seconds_total/);
    });

    it('serves the privacy and terms pages the app package links to', async () => {
      for (const page of ['privacy', 'terms']) {
        const r = await fetch(`${s.url}/${page}`);
        assert.equal(r.status, 200);
        assert.match(await r.text(), /<h1>Support Bot/);
      }
    });

    it('answers a failed turn with an apology and a correlation id, and logs the details', async () => {
      const adapter = new TestAdapter(async () => undefined);
      const context = new TurnContext(adapter, { type: 'message', text: 'hi', channelId: 'msteams', from: { id: 'u', name: 'U' }, recipient: { id: 'b', name: 'B' }, conversation: { id: 'c', name: '', isGroup: false, conversationType: 'personal' }, serviceUrl: 'http://127.0.0.1:9' } as never);
      await s.app.adapter.onTurnError(context, new Error('secret detail from a dependency: connection string Server=db;Password=hunter2'));
      const reply = adapter.activeQueue.shift()!;
      const card = JSON.stringify(reply.attachments![0]!.content);
      const logged = s.logs.entries.find((e) => e.msg === 'turn failed')!;
      assert.ok(logged, 'logged');
      assert.match(card, new RegExp(String(logged.correlationId)));
      assert.doesNotMatch(card, /secret detail|hunter2|Error/);
    });

    it('refuses a body that is not an activity without crashing', async () => {
      const r = await fetch(`${s.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"not":"an activity"' });
      assert.ok(r.status >= 400 && r.status < 500, String(r.status));
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    });
  });

  describe('with credentials', () => {
    let s: Awaited<ReturnType<typeof start>>;
    before(async () => {
      s = await start({ MicrosoftAppId: '11111111-2222-3333-4444-555555555555', MicrosoftAppPassword: 'not-a-real-secret', HOST: '127.0.0.1' });
    });
    after(async () => {
      await s?.app.stop();
      s?.dir.remove();
    });

    it('refuses activities without a valid token', async () => {
      const activity = JSON.stringify({ type: 'message', text: 'help', channelId: 'msteams', serviceUrl: 'https://smba.trafficmanager.net/emea/', from: { id: 'u' }, recipient: { id: 'b' }, conversation: { id: 'c' } });
      const none = await fetch(`${s.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: activity });
      assert.equal(none.status, 401);
      assert.match(((await none.json()) as { error: string }).error, /bearer token is required/);
      assert.ok(s.logs.entries.some((e) => e.msg === 'activity refused: no bearer token'));
      // A token that is not valid goes to the Bot Framework adapter, which refuses it (and prints the error).
      const printed = sinon.stub(console, 'error');
      try {
        const garbage = await fetch(`${s.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.jwt' }, body: activity });
        assert.equal(garbage.status, 401);
        assert.ok(printed.args.some((a) => (a[0] as { statusCode?: number })?.statusCode === 401));
      } finally {
        printed.restore();
      }
    });
  });
});
