/**
 * Time to notify (issue #5): from a line appended to a followed log file to the workaround card
 * handed to the Teams connector (a local one), with default settings: the bot's follower, the
 * alert engine and the dispatcher as `npm start` runs them, the TeamsNotifier through botbuilder.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { createAlertRuntime } from '../bot/alerts-runtime';
import { CardRenderer } from '../src/cards/render-card';
import { loadConfig } from '../src/config';
import { createEngine } from '../src/engine';
import { createLogger } from '../src/logger';
import { SqliteStateStore } from '../src/state/state-store';
import { SqliteLogStore } from '../src/logs/sqlite/sqlite-log-store';
import { startLocalConnector } from '../test/support/local-connector';
import { addSection, BenchContext, percentile, report } from './bench';

const EVENTS = 100;

export async function benchNotify(ctx: Pick<BenchContext, 'workDir'>): Promise<void> {
  process.stdout.write('\nTime to notify (issue #5)\n');
  const dir = join(ctx.workDir, 'notify');
  const logs = join(dir, 'logs', 'APP01', 'api');
  mkdirSync(logs, { recursive: true });
  const file = join(logs, 'live.log');
  appendFileSync(file, '');
  const connector = await startLocalConnector();
  const config = loadConfig({ SUPPORTBOT_DATA_DIR: join(dir, 'data'), SUPPORTBOT_FOLLOW: join(dir, 'logs'), SUPPORTBOT_TIME_ZONE: 'Europe/Berlin' });
  const store = new SqliteLogStore({ file: join(dir, 'data', 'logs.db') });
  const engine = await createEngine(config, { logStore: store });
  const state = new SqliteStateStore(join(dir, 'data', 'state.db'));
  const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
  const people = engine.directory.people.filter((p) => p.role === 'user').slice(0, EVENTS);
  // Each user has the app installed: a personal chat whose service URL is the local connector.
  for (const p of people) {
    state.saveConversation({
      conversationId: `personal-${p.userId}`,
      kind: 'personal',
      aadObjectId: p.aadObjectId,
      reference: { channelId: 'msteams', serviceUrl: connector.url, conversation: { id: `personal-${p.userId}` }, bot: { id: 'bot' }, user: { id: `29:${p.userId}`, aadObjectId: p.aadObjectId } },
      updatedAt: Date.now(),
    });
  }
  const runtime = createAlertRuntime({ engine, db: state.db, adapter, conversations: state, cards: new CardRenderer(), logger: createLogger({ level: (process.env.BENCH_LOG_LEVEL as 'error' | undefined) ?? 'error' }) });
  runtime.start();
  const latencies: number[] = [];
  try {
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < EVENTS; i++) {
      const p = people[i]!;
      const doc = 90000 + i;
      const written = performance.timeOrigin + performance.now();
      appendFileSync(
        file,
        JSON.stringify({ time: new Date().toISOString(), level: 'Error', logger: 'L', message: 'Not authorized', node: 'APP01', userId: Number(p.userId), method: 'PUT', url: `/api/documents/${doc}`, statusCode: 403, documentId: doc, documentType: 'Service Hours Adjustment' }) + '\r\n',
      );
      const deadline = Date.now() + 30_000;
      let got: number | undefined;
      while (got === undefined && Date.now() < deadline) {
        const hit = connector.received.find((a) => a.conversationId === `personal-${p.userId}` && JSON.stringify(a.attachments ?? []).includes(String(doc)));
        if (hit) got = hit.time;
        else await new Promise((r) => setTimeout(r, 5));
      }
      if (got === undefined) throw new Error(`no card for line ${i} within 30 s`);
      latencies.push(got - written);
      // Lines arrive at random moments relative to the engine's 5 s schedule.
      await new Promise((r) => setTimeout(r, Math.random() * 700));
    }
  } finally {
    await runtime.stop();
    await connector.stop();
    await engine.close();
    state.close();
  }
  latencies.sort((a, b) => a - b);
  report(`line appended → card at the connector, p50 / p95 over ${EVENTS}`, `${(percentile(latencies, 50) / 1000).toFixed(2)} / ${(percentile(latencies, 95) / 1000).toFixed(2)} s`, 'p95 < 5 s');
}

addSection('notify', benchNotify);
