import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { CloudAdapter, ConfigurationBotFrameworkAuthentication, TurnContext } from 'botbuilder';
import type { Server } from 'restify';
import { Config } from '../src/config';
import { createEngine, Engine, EngineOverrides } from '../src/engine';
import { CardRenderer } from '../src/cards/render-card';
import { createLogger, Logger } from '../src/logger';
import { SqliteStateStore } from '../src/state/state-store';
import { BotServices } from './conversation';
import { createMetrics } from './metrics';
import { createServer } from './server';
import { SupportBot } from './support-bot';
import { createAlertRuntime } from './alerts-runtime';
import { subscribe, subscriptions, unsubscribe } from './commands/subscriptions';
import { incident, incidents, resolve, snooze } from './commands/incidents';
import { ruleFrom, ruleVerbs } from './commands/rule-from';
import { incidentVerbs } from './incident-actions';
import { tabRoutes } from './tab/routes';
import { Person } from '../src/directory/user-directory';
import { Notifier } from '../src/alerts/notifications';

export interface BotApp {
  readonly services: BotServices;
  readonly adapter: CloudAdapter;
  readonly bot: SupportBot;
  readonly server: Server;
  /** Listens; resolves with the base URL. */
  start(): Promise<string>;
  /** Stops taking requests, lets running turns finish, closes stores. Safe to call twice. */
  stop(): Promise<void>;
}

export interface BotAppOverrides extends EngineOverrides {
  engine?: Engine;
  logger?: Logger;
  state?: SqliteStateStore;
  /** Port to listen on instead of the configured one (0: any free port). */
  port?: number;
  /** Run without the alert engine (chat only). */
  alerts?: false;
  /** Where rules without a checkpoint start (default: now). */
  alertsFrom?: number;
  /** Replaces the Teams notifier (tests, benchmarks). */
  notifier?: Notifier;
  /** Start alerting only when `services.alerts.start()` is called (local mode installs the app first). */
  deferAlerts?: boolean;
  /** Local mode: the person the dashboard acts as for requests from this machine (npm start -- --as). */
  localUser?: Person;
}

/** Composition root of the bot: every service made here, by hand, and handed to who needs it. */
export async function createBotApp(config: Readonly<Config>, overrides: BotAppOverrides = {}): Promise<BotApp> {
  const logger = overrides.logger ?? createLogger();
  const engine = overrides.engine ?? (await createEngine(config, overrides));
  const state = overrides.state ?? new SqliteStateStore(join(config.dataDir, 'state.db'));
  const metrics = createMetrics();
  const services: BotServices = { engine, conversations: state, cards: new CardRenderer(), metrics, logger };

  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: config.bot.appId ?? '',
    MicrosoftAppPassword: config.bot.appPassword ?? '',
    MicrosoftAppType: config.bot.appType,
    MicrosoftAppTenantId: config.bot.tenantId ?? '',
  });
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (context: TurnContext, error: Error) => {
    // A proactive send (continueConversation / createConversation) failed: the notifier decides
    // what that means (retry, unreachable); nobody is in that conversation waiting for an apology.
    if (context.activity.type === 'event' && (context.activity.name === 'ContinueConversation' || context.activity.name === 'CreateConversation')) {
      throw error;
    }
    // The person sees an apology and a reference; the details stay in our logs.
    const correlationId = randomUUID();
    metrics.turnErrors.inc();
    logger.error('turn failed', {
      correlationId,
      error,
      activity: { type: context.activity.type, name: context.activity.name, conversationId: context.activity.conversation?.id },
    });
    const card = services.cards.attachment(services.cards.render('error', { correlationId }));
    try {
      if (context.activity.type === 'invoke') {
        await context.sendActivity({
          type: 'invokeResponse',
          value: { status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card.content } },
        });
      } else {
        await context.sendActivity({ type: 'message', attachments: [card] });
      }
    } catch (sendError) {
      logger.error('could not send the apology card', { correlationId, error: sendError as Error });
    }
  };

  if (overrides.alerts !== false) {
    services.alerts = createAlertRuntime({
      engine,
      db: state.db,
      adapter,
      conversations: state,
      cards: services.cards,
      logger,
      ...(overrides.alertsFrom !== undefined ? { startAt: overrides.alertsFrom } : {}),
      ...(overrides.notifier ? { notifier: overrides.notifier } : {}),
    });
  }
  const bot = new SupportBot(services, {
    commands: services.alerts ? [subscribe, unsubscribe, subscriptions, incidents, incident, resolve, snooze, ruleFrom] : [],
    verbs: services.alerts ? { ...incidentVerbs(), ...ruleVerbs() } : {},
  });
  const server = createServer({
    adapter,
    bot,
    metrics,
    logger,
    logStore: engine.logStore,
    requireToken: !config.bot.anonymous,
    routes: tabRoutes({
      services,
      localUser: () => overrides.localUser,
      ...(config.tab.releaseAt ? { releaseAt: new Date(config.tab.releaseAt).toISOString() } : {}),
      ...(config.tab.botDomain ? { botDomain: config.tab.botDomain } : {}),
    }),
  });
  let stopped = false;

  return {
    services,
    adapter,
    bot,
    server,
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(overrides.port ?? config.bot.port, config.bot.host, () => {
          const address = server.address() as { port: number };
          const url = `http://${config.bot.host === '0.0.0.0' ? 'localhost' : config.bot.host}:${address.port}`;
          logger.info(config.bot.anonymous ? 'bot listening without authentication (local mode, this machine only)' : 'bot listening', {
            url,
            logStore: engine.logStore.kind,
          });
          if (!overrides.deferAlerts) services.alerts?.start();
          resolve(url);
        });
      }),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await services.alerts?.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!overrides.engine) await engine.close();
      if (!overrides.state) state.close();
    },
  };
}
