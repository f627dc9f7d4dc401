/**
 * The alert engine over the sample week, live: checkpoints and the outbox survive a restart in the
 * middle of a run (no gap, nothing twice), Elasticsearch going down mid-run delays alerting without
 * losing its place (support is told once each way), and unreachable people are reported.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { createAlerting } from '../../src/alerts/alerting';
import { ALL_RULES } from '../../src/alerts/alert-state';
import { Dispatcher } from '../../src/alerts/dispatcher';
import { Delivery, Notification, Notifier } from '../../src/alerts/notifications';
import { RateLimiter } from '../../src/alerts/rate-limiter';
import { replayAlerts } from '../../src/alerts/replay';
import { loadRules } from '../../src/alerts/rule-loader';
import { UnreachableReporter } from '../../src/alerts/unreachable';
import { CardRenderer } from '../../src/cards/render-card';
import { manualClock } from '../../src/clock';
import { loadUserDirectory } from '../../src/directory/user-directory';
import { createElasticsearchClient, ElasticsearchLogStore } from '../../src/logs/elasticsearch/elasticsearch-log-store';
import { ingestPaths } from '../../src/logs/ingest';
import { LogStore } from '../../src/logs/log-store';
import { loadSourcesConfig } from '../../src/logs/sources';
import { SqliteLogStore } from '../../src/logs/sqlite/sqlite-log-store';
import { memoryLogger } from '../../src/logger';
import { projectPath } from '../../src/paths';
import { RunningNode, startElasticsearch } from '../../scripts/elasticsearch-node';
import { RecordingNotifier } from '../support/bot';
import { elasticsearchSkipped, tempDir } from '../support/stores';
import { SAMPLE_DIRECTORY, SAMPLE_LOGS } from '../support/truth';

const FROM = Date.parse('2020-06-08T00:00:00+02:00');
const END = Date.parse('2020-06-13T00:00:00+02:00');
const directory = loadUserDirectory(SAMPLE_DIRECTORY);
const rules = () => loadRules(projectPath('rules')).rules;
const SUPPORT = 'support-channel';

/** The bot's alerting over a state database file, with a manual clock: one "process". */
function world(stateFile: string, store: LogStore, notifier: Notifier, clock: ReturnType<typeof manualClock>) {
  const db = new Database(stateFile);
  db.pragma('journal_mode = WAL');
  const logger = memoryLogger();
  const alerting = createAlerting({
    db,
    store,
    rules: rules(),
    directory,
    cards: new CardRenderer(),
    clock,
    logger,
    options: { timeZone: 'Europe/Berlin', startAt: FROM, lookbackMs: 120_000 },
  });
  alerting.state.subscribe(SUPPORT, ALL_RULES, undefined, FROM);
  const dispatcher = new Dispatcher({
    outbox: alerting.outbox,
    notifier,
    limiter: new RateLimiter({ perConversationPerSecond: 7, perTenantPerSecond: 50, clock }),
    clock,
    sleep: async (ms) => clock.advance(ms),
  });
  return { ...alerting, db, dispatcher, logger };
}

/** What reached individuals, as rule:role:user, sorted. */
const individuals = (ns: Notification[]) =>
  ns.filter((n) => n.recipient.role !== 'channel' && !n.recipient.updateActivityId).map((n) => `${n.ruleId}:${n.recipient.role}:${n.recipient.userId}`).sort();

describe('alert engine: restart in the middle of a run', function () {
  this.timeout(120_000);
  const dir = tempDir();
  let store: SqliteLogStore;

  before(async () => {
    store = new SqliteLogStore({ file: join(dir.path, 'logs.db') });
    await ingestPaths([SAMPLE_LOGS], { store, sources: loadSourcesConfig() });
  });
  after(async () => {
    await store.close();
    dir.remove();
  });

  it('resumes from its checkpoint and outbox: every notification once, none lost', async () => {
    const stateFile = join(dir.path, 'state.db');
    const clock = manualClock('2020-06-10T12:00:00+02:00');
    const first = new RecordingNotifier();
    const a = world(stateFile, store, first, clock);
    await a.engine.runOnce();
    // A crash mid fan-out: five claimed, three delivered and recorded, two left "sending".
    const claimed = a.outbox.claimDue(clock(), 5);
    for (const item of claimed.slice(0, 3)) a.outbox.record(item.id, await first.deliver(item.notification), clock(), { baseMs: 1000, maxMs: 60_000 });
    a.db.close();

    clock.set(END);
    const second = new RecordingNotifier();
    const b = world(stateFile, store, second, clock);
    clock.advance(10 * 60_000); // past the claim lease
    assert.equal(b.outbox.recoverInFlight(clock()), 2);
    await b.engine.runOnce(END);
    await b.dispatcher.drain();

    const all = [...first.sent, ...second.sent];
    const keys = all.map((n) => n.idempotencyKey);
    assert.equal(new Set(keys).size, keys.length, 'nothing sent twice');
    const replay = await replayAlerts({ store, rules: rules(), directory, cards: new CardRenderer(), logger: memoryLogger(), from: FROM, to: END, timeZone: 'Europe/Berlin' });
    assert.deepEqual(individuals(all), individuals(replay), 'no gap: the same as one run over the whole week');
    assert.equal(b.outbox.counts().pending + b.outbox.counts().sending, 0);
    b.db.close();
  });

  it('reports people it cannot reach to the support channel, once', async () => {
    const clock = manualClock(END);
    const notifier: Notifier = {
      name: 'nobody-home',
      async deliver(n: Notification): Promise<Delivery> {
        return n.recipient.role === 'channel' ? { outcome: 'sent', conversationId: SUPPORT, activityId: `a-${n.idempotencyKey}` } : { outcome: 'unreachable', reason: 'the app is not installed for this person' };
      },
    };
    const w = world(join(dir.path, 'state-unreachable.db'), store, notifier, clock);
    await w.engine.runOnce();
    await w.dispatcher.drain();
    const reporter = new UnreachableReporter(w.db, { ...w, cards: new CardRenderer(), clock });
    const reported = reporter.report();
    assert.equal(reported, w.outbox.counts().unreachable);
    assert.equal(reporter.report(), 0, 'each person once');
    await w.dispatcher.drain();
    const notice = w.outbox.items({ role: 'channel', limit: 10_000 }).map((i) => JSON.stringify(i.notification.card)).find((c) => c.includes('Could not reach'));
    assert.ok(notice, 'a notice to the support channel');
    assert.match(notice!, /Sergei Haddad \(user 1086\), affected of forbidden-edit \(incident \d+\)/);
    assert.match(notice!, /and \d+ more/);
    assert.match(notice!, /the app is not installed for this person/);
    w.db.close();
  });
});

describe('alert engine: Elasticsearch stopped and restarted in the middle of a run', function () {
  this.timeout(400_000);
  let node: RunningNode;
  let store: ElasticsearchLogStore;
  const dir = tempDir();

  before(async function () {
    if (elasticsearchSkipped()) this.skip();
    // A node of its own: this test stops it.
    node = await startElasticsearch();
    store = new ElasticsearchLogStore(createElasticsearchClient({ node: node.url, username: node.username, password: node.password }), { index: 'outage-logs', timeoutMs: 3000, retryDelayMs: 50 });
    await store.init();
    await ingestPaths([SAMPLE_LOGS], { store, sources: loadSourcesConfig() });
  });
  after(async () => {
    await store?.close();
    await node?.stop();
    dir.remove();
  });

  it('backs off, keeps its checkpoints, catches up with no gap and no duplicate; support is told once each way', async () => {
    const clock = manualClock('2020-06-09T12:00:00+02:00');
    const notifier = new RecordingNotifier();
    const w = world(join(dir.path, 'state.db'), store, notifier, clock);
    const first = await w.engine.runOnce();
    assert.equal(first.delayed, undefined);
    const checkpoints = w.engine.rules.map((r) => w.state.checkpoint(r.id));

    await node.halt();
    clock.set('2020-06-11T12:00:00+02:00');
    const down1 = await w.engine.runOnce();
    clock.advance(60_000);
    const down2 = await w.engine.runOnce();
    assert.ok(down1.delayed && down2.delayed, 'the runs report the delay');
    assert.deepEqual(w.engine.rules.map((r) => w.state.checkpoint(r.id)), checkpoints, 'checkpoints kept');

    await node.boot();
    clock.set(END);
    const back = await w.engine.runOnce();
    assert.equal(back.delayed, undefined);
    await w.dispatcher.drain();

    const notices = notifier.sent.filter((n) => n.recipient.conversationId === SUPPORT).map((n) => JSON.stringify(n.card));
    assert.equal(notices.filter((c) => c.includes('Alerting is delayed')).length, 1, 'told once that alerting is delayed');
    assert.equal(notices.filter((c) => c.includes('Alerting has caught up')).length, 1, 'and once that it recovered');
    const keys = notifier.sent.map((n) => n.idempotencyKey);
    assert.equal(new Set(keys).size, keys.length, 'nothing twice');
    const replay = await replayAlerts({ store, rules: rules(), directory, cards: new CardRenderer(), logger: memoryLogger(), from: FROM, to: END, timeZone: 'Europe/Berlin' });
    assert.deepEqual(individuals(notifier.sent), individuals(replay), 'no gap');
    w.db.close();
  });
});
