import Database from 'better-sqlite3';
import { CardRenderer } from '../cards/render-card';
import { Clock } from '../clock';
import { AlertState, ALL_RULES } from './alert-state';
import { IncidentCards } from './incident-cards';
import { Notification } from './notifications';
import { Outbox } from './outbox';

/**
 * People the bot could not reach are never dropped silently: each one is reported once to the
 * support channel (conversations subscribed to every rule), with the reason, and the incident
 * cards show it next to their name.
 */
export class UnreachableReporter {
  constructor(
    private readonly db: Database.Database,
    private readonly deps: { outbox: Outbox; state: AlertState; incidentCards: IncidentCards; cards: CardRenderer; clock: Clock },
  ) {
    db.exec('CREATE TABLE IF NOT EXISTS unreachable_reported (outbox_id INTEGER PRIMARY KEY, reported_at INTEGER NOT NULL)');
  }

  /** Reports the unreachable recipients not reported yet; returns how many. */
  report(): number {
    const { outbox, state, incidentCards, cards, clock } = this.deps;
    const seen = this.db.prepare('SELECT 1 FROM unreachable_reported WHERE outbox_id = ?');
    const fresh = outbox
      .items({ status: 'unreachable', limit: 10_000 })
      .filter((i) => i.notification.recipient.role !== 'channel' && !seen.get(i.id));
    if (!fresh.length) return 0;
    const now = clock();
    const channels = state.subscribers(ALL_RULES);
    const lines = fresh.map((i) => {
      const r = i.notification.recipient;
      const who = r.name ? `${r.name} (user ${r.userId})` : `user ${r.userId ?? '?'}`;
      return `${who}, ${r.role} of ${i.notification.ruleId}${i.notification.incidentId ? ` (incident ${i.notification.incidentId})` : ''}: ${i.lastError ?? 'unreachable'}`;
    });
    const shown = lines.slice(0, 20).join('\n');
    const more = lines.length > 20 ? `\n… and ${lines.length - 20} more (see the dashboard).` : '';
    const card = cards.render('notice', {
      title: `Could not reach ${fresh.length} ${fresh.length === 1 ? 'person' : 'people'}`,
      text: `${shown}${more}\nThey have not seen their card. Install the app for them (or add them to the user directory), or contact them another way.`,
      style: 'warning',
    }) as unknown as Record<string, unknown>;
    const notices: Notification[] = channels.map((conversationId) => ({
      idempotencyKey: `unreachable:${fresh[0]!.id}-${fresh[fresh.length - 1]!.id}:${conversationId}`,
      ruleId: ALL_RULES,
      recipient: { role: 'channel', conversationId },
      card,
      events: [],
      createdAt: now,
    }));
    const mark = this.db.prepare('INSERT OR IGNORE INTO unreachable_reported VALUES (?, ?)');
    this.db.transaction(() => {
      if (notices.length) outbox.enqueue(notices);
      for (const i of fresh) mark.run(i.id, now);
    })();
    // The incident cards show who could not be reached.
    for (const id of new Set(fresh.map((i) => i.notification.incidentId).filter((x): x is number => x !== undefined))) incidentCards.sync(id);
    return fresh.length;
  }
}
