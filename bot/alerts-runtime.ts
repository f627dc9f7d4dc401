import Database from 'better-sqlite3';
import { join } from 'node:path';
import { CloudAdapter } from 'botbuilder';
import { Alerting, createAlerting } from '../src/alerts/alerting';
import { Dispatcher, Sleep } from '../src/alerts/dispatcher';
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
import { UnreachableReporter } from '../src/alerts/unreachable';

/**
 * The alerting side of the bot: rules, the engine that runs them, the outbox and the dispatcher
 * that delivers into Teams, and (when SUPPORTBOT_FOLLOW names log folders) a follower that reads
 * new log lines and wakes the engine at once, so a card goes out within seconds of the line.
 */
export interface AlertRuntime extends Alerting {
  dispatcher: Dispatcher;
  notifier: Notifier;
  rules(): Rule[];
  /** Problems of rule files skipped at start (the others run). */
  problems: RuleProblem[];
  /** Tells the support channel about people who could not be reached (runs every 5 s by itself). */
  reportUnreachable(): number;
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
  /** The dispatcher's wait (tests with a manual clock advance it instead of sleeping). */
  sleep?: Sleep;
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
  let dispatcher: Dispatcher | undefined;
  const alerting = createAlerting({
    db: deps.db,
    store: core.logStore,
    rules: loaded.rules,
    directory: core.directory,
    cards: deps.cards,
    clock: core.clock,
    logger: logger.child({ component: 'alerts' }),
    options: {
      timeZone: config.timeZone,
      intervalMs: config.alerts.intervalMs,
      lookbackMs: config.alerts.lookbackMs,
      ...(deps.startAt !== undefined ? { startAt: deps.startAt } : {}),
    },
    onEnqueued: () => dispatcher?.nudge(),
  });
  const { outbox, engine: alertEngine } = alerting;
  // One bot owns this state: whatever it was sending when it stopped goes out again now.
  outbox.recoverInFlight(core.clock(), { ignoreLease: true });
  const unreachable = new UnreachableReporter(deps.db, { ...alerting, cards: deps.cards, clock: core.clock });
  const notifier = deps.notifier ?? new TeamsNotifier(deps.adapter, deps.conversations, { appId: config.bot.appId ?? '', ...(config.bot.tenantId ? { tenantId: config.bot.tenantId } : {}) });
  dispatcher = new Dispatcher({
    outbox,
    notifier,
    limiter: new RateLimiter({
      perConversationPerSecond: config.alerts.perConversationPerSecond,
      perTenantPerSecond: config.alerts.perTenantPerSecond,
      clock: core.clock,
    }),
    clock: core.clock,
    logger: logger.child({ component: 'dispatcher' }),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
  let follower: { stop(): Promise<void> } | undefined;
  let reporter: NodeJS.Timeout | undefined;
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

  const running = dispatcher;
  return {
    ...alerting,
    dispatcher: running,
    notifier,
    problems: loaded.problems,
    rules: () => alertEngine.rules,
    reportUnreachable: () => unreachable.report(),
    start: () => {
      startFollower();
      alertEngine.start();
      running.start(1000);
      reporter = setInterval(() => {
        try {
          if (unreachable.report()) running.nudge();
        } catch (err) {
          logger.error('reporting unreachable people failed', { error: err as Error });
        }
      }, 5000);
      reporter.unref();
    },
    stop: async () => {
      if (reporter) clearInterval(reporter);
      await follower?.stop();
      await alertEngine.stop();
      await running.stop();
    },
  };
}
