import Database from 'better-sqlite3';
import { join } from 'node:path';
import { CloudAdapter } from 'botbuilder';
import { AlertState } from '../src/alerts/alert-state';
import { Dispatcher } from '../src/alerts/dispatcher';
import { AlertEngine } from '../src/alerts/engine';
import { Outbox } from '../src/alerts/outbox';
import { RateLimiter } from '../src/alerts/rate-limiter';
import { Rule } from '../src/alerts/rule';
import { formatProblems, loadRules, RuleProblem } from '../src/alerts/rule-loader';
import { Notifier } from '../src/alerts/notifications';
import { CardRenderer } from '../src/cards/render-card';
import { Engine } from '../src/engine';
import { Follower, OffsetRegistry } from '../src/logs/follow';
import { Logger } from '../src/logger';
import { ConversationStore } from '../src/state/state-store';
import { TeamsNotifier } from './notifier';

/**
 * The alerting side of the bot: rules, the engine that runs them, the outbox and the dispatcher
 * that delivers into Teams, and (when SUPPORTBOT_FOLLOW names log folders) a follower that reads
 * new log lines and wakes the engine at once, so a card goes out within seconds of the line.
 */
export interface AlertRuntime {
  state: AlertState;
  outbox: Outbox;
  engine: AlertEngine;
  dispatcher: Dispatcher;
  notifier: Notifier;
  rules(): Rule[];
  /** Problems of rule files skipped at start (the others run). */
  problems: RuleProblem[];
  start(): void;
  stop(): Promise<void>;
}

export interface AlertRuntimeDeps {
  engine: Engine;
  db: Database.Database;
  adapter: CloudAdapter;
  conversations: ConversationStore;
  cards: CardRenderer;
  logger: Logger;
  /** Replaces the Teams notifier (tests, benchmarks). */
  notifier?: Notifier;
  /** Where a rule without a checkpoint starts (default: now). */
  startAt?: number;
}

export function createAlertRuntime(deps: AlertRuntimeDeps): AlertRuntime {
  const { engine: core, logger } = deps;
  const config = core.config;
  const loaded = loadRules(config.alerts.rulesDir);
  if (loaded.problems.length) {
    // A bad rule file is skipped with its reasons; the other rules keep running.
    logger.warn('skipping invalid alert rules', { problems: formatProblems(loaded.problems).split('\n') });
  }
  logger.info('alert rules loaded', { rules: loaded.rules.map((r) => `${r.id}${r.enabled ? '' : ' (disabled)'}`) });
  const state = new AlertState(deps.db);
  const outbox = new Outbox(deps.db);
  outbox.recoverInFlight(core.clock());
  const notifier = deps.notifier ?? new TeamsNotifier(deps.adapter, deps.conversations, { appId: config.bot.appId ?? '', ...(config.bot.tenantId ? { tenantId: config.bot.tenantId } : {}) });
  const dispatcher = new Dispatcher({
    outbox,
    notifier,
    limiter: new RateLimiter({
      perConversationPerSecond: config.alerts.perConversationPerSecond,
      perTenantPerSecond: config.alerts.perTenantPerSecond,
      clock: core.clock,
    }),
    clock: core.clock,
    logger: logger.child({ component: 'dispatcher' }),
  });
  const alertEngine = new AlertEngine({
    store: core.logStore,
    rules: loaded.rules,
    directory: core.directory,
    state,
    outbox,
    cards: deps.cards,
    clock: core.clock,
    logger: logger.child({ component: 'alerts' }),
    options: {
      timeZone: config.timeZone,
      intervalMs: config.alerts.intervalMs,
      lookbackMs: config.alerts.lookbackMs,
      ...(deps.startAt !== undefined ? { startAt: deps.startAt } : {}),
    },
    onEnqueued: () => dispatcher.nudge(),
  });

  let follower: { stop(): Promise<void> } | undefined;
  const startFollower = () => {
    if (!config.alerts.follow.length) return;
    const registry = new OffsetRegistry(join(config.dataDir, 'ingest-offsets.db'));
    const f = new Follower(config.alerts.follow, core.logStore, core.sources, registry);
    let stopped = false;
    const loop = async () => {
      while (!stopped) {
        try {
          const report = await f.tick();
          for (const m of report.malformed) logger.warn('malformed log line', { source: m.source, reason: m.reason });
          if (report.events) {
            await core.logStore.refresh();
            alertEngine.nudge();
          }
        } catch (err) {
          logger.error('following logs failed; retrying', { error: err as Error });
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      await f.tick(true).catch(() => undefined);
      registry.close();
    };
    const running = loop();
    follower = {
      stop: async () => {
        stopped = true;
        await running;
      },
    };
    logger.info('following logs', { paths: config.alerts.follow });
  };

  return {
    state,
    outbox,
    engine: alertEngine,
    dispatcher,
    notifier,
    problems: loaded.problems,
    rules: () => alertEngine.rules,
    start: () => {
      startFollower();
      alertEngine.start();
      dispatcher.start(1000);
    },
    stop: async () => {
      await follower?.stop();
      await alertEngine.stop();
      await dispatcher.stop();
    },
  };
}
