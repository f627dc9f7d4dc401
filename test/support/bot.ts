import { Activity, TestAdapter, TurnContext } from 'botbuilder';
import { join } from 'node:path';
import { BotServices } from '../../bot/conversation';
import { createMetrics } from '../../bot/metrics';
import { SupportBot } from '../../bot/support-bot';
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
  dispose(): Promise<void>;
}

/** A bot over the sample data in an embedded store, with a clock at the sample's Friday afternoon. */
export async function botHarness(env: Record<string, string> = {}): Promise<BotHarness> {
  const dir = tempDir();
  const config = loadConfig({ SUPPORTBOT_DATA_DIR: dir.path, SUPPORTBOT_TIME_ZONE: 'Europe/Berlin', ...env });
  const store = new SqliteLogStore({ file: join(dir.path, 'logs.db') });
  await ingestPaths([SAMPLE_LOGS], { store, sources: loadSourcesConfig() });
  const engine = await createEngine(config, { logStore: store, clock: manualClock(SAMPLE_NOW) });
  const state = new SqliteStateStore(':memory:');
  const logger = memoryLogger();
  const services = { engine, conversations: state, cards: new CardRenderer(), metrics: createMetrics(), logger };
  const bot = new SupportBot(services);
  return {
    services,
    engine,
    state,
    bot,
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
