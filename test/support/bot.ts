import { Activity, TestAdapter, TurnContext } from 'botbuilder';
import { join } from 'node:path';
import { BotServices } from '../../bot/conversation';
import { createMetrics } from '../../bot/metrics';
import { SupportBot } from '../../bot/support-bot';
import { createAlertRuntime } from '../../bot/alerts-runtime';
import { subscribe, subscriptions, unsubscribe } from '../../bot/commands/subscriptions';
import { incident, incidents, resolve, snooze } from '../../bot/commands/incidents';
import { ruleFrom, ruleVerbs } from '../../bot/commands/rule-from';
import { incidentVerbs } from '../../bot/incident-actions';
import { Delivery, Notification, Notifier } from '../../src/alerts/notifications';
import { CardRenderer } from '../../src/cards/render-card';
import { manualClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { createEngine, Engine } from '../../src/engine';
import { memoryLogger } from '../../src/logger';
import { SqliteStateStore } from '../../src/state/state-store';
import { SqliteLogStore } from '../../src/logs/sqlite/sqlite-log-store';
import { ingestPaths } from '../../src/logs/ingest';
import { loadSourcesConfig } from '../../src/logs/sources';
import { tempDir } from './stores';
import { SAMPLE_LOGS } from './truth';

/** The demo "now" of the sample data: Friday afternoon of the sample week. */
export const SAMPLE_NOW = '2020-06-12T16:30:00+02:00';

export interface BotHarness {
  services: BotServices & { logger: ReturnType<typeof memoryLogger> };
  engine: Engine;
  state: SqliteStateStore;
  bot: SupportBot;
  notifier: RecordingNotifier;
  clock: ReturnType<typeof manualClock>;
  settle(): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * A notifier that records what it is given and answers like Teams: a conversation per person or
 * channel and an activity id per message (so later updates can replace them).
 */
export class RecordingNotifier implements Notifier {
  readonly name = 'recording';
  readonly sent: Notification[] = [];
  private next = 1;

  async deliver(n: Notification): Promise<Delivery> {
    this.sent.push(n);
    const r = n.recipient;
    const conversationId = r.conversationId ?? `personal-${r.aadObjectId ?? r.userId}`;
    return { outcome: 'sent', conversationId, activityId: r.updateActivityId ?? `activity-${this.next++}` };
  }

  /** What went to someone: by role and user id (or conversation for channels). */
  to(role: string, who?: string): Notification[] {
    return this.sent.filter((n) => n.recipient.role === role && (who === undefined || n.recipient.userId === who || n.recipient.conversationId === who));
  }
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Run the alerting runtime (rules, engine, outbox, dispatcher with a RecordingNotifier). */
  alerts?: { rulesDir?: string; from?: string };
}

/** A bot over the sample data in an embedded store, with a clock at the sample's Friday afternoon. */
export async function botHarness(options: HarnessOptions | Record<string, string> = {}): Promise<BotHarness> {
  const opts: HarnessOptions = 'env' in options || 'alerts' in options ? (options as HarnessOptions) : { env: options as Record<string, string> };
  const dir = tempDir();
  const config = loadConfig({
    SUPPORTBOT_DATA_DIR: dir.path,
    SUPPORTBOT_TIME_ZONE: 'Europe/Berlin',
    ...(opts.alerts?.rulesDir ? { SUPPORTBOT_RULES: opts.alerts.rulesDir } : {}),
    ...opts.env,
  });
  const store = new SqliteLogStore({ file: join(dir.path, 'logs.db') });
  await ingestPaths([SAMPLE_LOGS], { store, sources: loadSourcesConfig() });
  const clock = manualClock(SAMPLE_NOW);
  const engine = await createEngine(config, { logStore: store, clock });
  const state = new SqliteStateStore(':memory:');
  const logger = memoryLogger();
  const services: BotServices & { logger: ReturnType<typeof memoryLogger> } = { engine, conversations: state, cards: new CardRenderer(), metrics: createMetrics(), logger };
  const notifier = new RecordingNotifier();
  if (opts.alerts) {
    services.alerts = createAlertRuntime({
      engine,
      db: state.db,
      adapter: undefined as never,
      conversations: state,
      cards: services.cards,
      logger,
      notifier,
      startAt: Date.parse(opts.alerts.from ?? '2020-06-08T00:00:00+02:00'),
      sleep: async (ms) => clock.advance(ms),
    });
  }
  const bot = new SupportBot(services, {
    commands: services.alerts ? [subscribe, unsubscribe, subscriptions, incidents, incident, resolve, snooze, ruleFrom] : [],
    verbs: services.alerts ? { ...incidentVerbs(), ...ruleVerbs() } : {},
  });
  return {
    services,
    engine,
    state,
    bot,
    notifier,
    clock,
    /** One engine run and a full dispatch of what it enqueued. */
    settle: async () => {
      await services.alerts!.engine.runOnce();
      await services.alerts!.dispatcher.drain();
    },
    dispose: async () => {
      await engine.close();
      state.close();
      dir.remove();
    },
  };
}

/** Who is who in the sample directory (aadObjectId from users.csv). */
export const PEOPLE = {
  support: { id: 'teams-1011', name: 'Xenia Dubois', aadObjectId: '652e3765-718e-437f-87f8-d7793f1c9c17' },
  supervisor1087: { id: 'teams-1345', name: 'Ines Okafor', aadObjectId: '0e659dc3-be12-45dd-9fff-1a7529deb9be' },
  user1087: { id: 'teams-1087', name: 'Paul Rossi', aadObjectId: 'e7e2a89a-bc17-49ca-8dd4-b11fd9b0089d' },
  user1181: { id: 'teams-1181', name: 'Elena Meyer', aadObjectId: 'f851ed53-0cc1-4110-b047-a14ee328317b' },
  stranger: { id: 'teams-x', name: 'Mallory', aadObjectId: '00000000-dead-beef-0000-000000000000' },
} as const;

export type Who = (typeof PEOPLE)[keyof typeof PEOPLE];

/** A Teams-like activity from someone in a personal chat (or another conversation). */
export function activity(from: Who, fields: Partial<Activity> = {}): Partial<Activity> {
  return {
    channelId: 'msteams',
    serviceUrl: 'https://smba.trafficmanager.net/emea/',
    from: { ...from, role: 'user' },
    recipient: { id: 'bot-id', name: 'Support Bot' },
    conversation: { id: `personal-${from.id}`, conversationType: 'personal', tenantId: 'tenant-1', isGroup: false, name: '' },
    localTimezone: 'Europe/Berlin',
    ...fields,
  };
}

/** Sends activities through botbuilder's TestAdapter and collects what the bot sends back. */
export async function exchange(bot: SupportBot, activities: Partial<Activity>[]): Promise<Partial<Activity>[]> {
  const replies: Partial<Activity>[] = [];
  const adapter = new TestAdapter(async (context: TurnContext) => {
    await bot.run(context);
  });
  adapter.onTurnError = async (_context, error) => {
    throw error;
  };
  for (const a of activities) {
    await adapter.processActivity(a as Activity);
    let reply: Partial<Activity> | undefined;
    while ((reply = adapter.activeQueue.shift())) replies.push(reply);
  }
  return replies;
}

/** Every text of an Adaptive Card (TextBlocks, table cells, facts, buttons), for assertions. */
export function cardTexts(node: unknown): string[] {
  const out: string[] = [];
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      const o = n as Record<string, unknown>;
      for (const key of ['text', 'title', 'value', 'altText']) if (typeof o[key] === 'string') out.push(o[key] as string);
      for (const v of Object.values(o)) if (typeof v === 'object') walk(v);
    }
  };
  walk(node);
  return out;
}

/** The Adaptive Card content of a reply. */
export function cardOf(reply: Partial<Activity> | undefined): Record<string, unknown> {
  const attachment = reply?.attachments?.find((a) => a.contentType === 'application/vnd.microsoft.card.adaptive');
  if (!attachment) throw new Error(`no Adaptive Card in ${JSON.stringify(reply).slice(0, 300)}`);
  return attachment.content as Record<string, unknown>;
}
