import Database from 'better-sqlite3';
import { CardRenderer } from '../cards/render-card';
import { manualClock } from '../clock';
import { UserDirectory } from '../directory/user-directory';
import { LogStore } from '../logs/log-store';
import { Logger } from '../logger';
import { createAlerting } from './alerting';
import { Notification } from './notifications';
import { Rule } from './rule';

export interface ReplayOptions {
  store: LogStore;
  rules: Rule[];
  directory: UserDirectory;
  cards: CardRenderer;
  logger: Logger;
  from: number;
  to: number;
  timeZone: string;
  /** Conversations subscribed to rules (conversation id → rule ids), so channel notices show too. */
  subscriptions?: { conversationId: string; ruleId: string }[];
}

/**
 * Replays a window of the logs through the alert engine, with a clock fixed at its end and a
 * throwaway state, and returns what would have been sent: `supportbot alerts run --dry-run`.
 * Nothing is delivered and the bot's own state is not touched.
 */
export async function replayAlerts(options: ReplayOptions): Promise<Notification[]> {
  const db = new Database(':memory:');
  try {
    // The same wiring as the bot, on a throwaway database; the outbox is read back, never sent.
    const alerting = createAlerting({
      db,
      store: options.store,
      rules: options.rules,
      directory: options.directory,
      cards: options.cards,
      clock: manualClock(options.to),
      logger: options.logger,
      // Nothing arrives late in a replay: the window is exactly [from, to).
      options: { timeZone: options.timeZone, startAt: options.from, lookbackMs: 0 },
    });
    for (const s of options.subscriptions ?? []) alerting.state.subscribe(s.conversationId, s.ruleId, undefined, options.from);
    const report = await alerting.engine.runOnce(options.to);
    if (report.delayed) throw new Error(`the log store is unavailable: ${report.delayed}`);
    return alerting.outbox.items({ limit: 1_000_000 }).map((item) => item.notification);
  } finally {
    db.close();
  }
}

/** The `--json` form: what each notification is, to whom, with which card, for which events. */
export function notificationsJson(notifications: Notification[]): { notifications: Record<string, unknown>[] } {
  return {
    notifications: notifications.map((n) => ({
      rule: n.ruleId,
      ...(n.incidentId !== undefined ? { incident: n.incidentId } : {}),
      recipient: {
        ...(n.recipient.userId ? { userId: n.recipient.userId } : {}),
        ...(n.recipient.aadObjectId ? { aadObjectId: n.recipient.aadObjectId } : {}),
        ...(n.recipient.name ? { name: n.recipient.name } : {}),
        ...(n.recipient.conversationId ? { conversationId: n.recipient.conversationId } : {}),
        role: n.recipient.role,
      },
      card: n.card,
      events: n.events,
    })),
  };
}
