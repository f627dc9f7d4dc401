import { CardRenderer } from '../cards/render-card';
import { Clock } from '../clock';
import { Person, UserDirectory } from '../directory/user-directory';
import { AlertState, ALL_RULES, IncidentRow } from './alert-state';
import { formatTime, incidentCardData } from './compose';
import { IncidentStore } from './incidents';
import { Notification, NotificationSink, Recipient } from './notifications';
import { Outbox } from './outbox';
import { Rule } from './rule';

export interface IncidentCardsDeps {
  state: AlertState;
  incidents: IncidentStore;
  outbox: Outbox;
  directory: UserDirectory;
  cards: CardRenderer;
  clock: Clock;
  rules: () => Rule[];
  timeZone: string;
  /** Where new notifications go (the outbox, or a recorder in a replay). */
  sink?: NotificationSink;
}

const quote = (s: string) => s.replace(/\s+/g, ' ').trim().slice(0, 300);

/** Incident cards start with the element `incident-header` (cards/incident.json); notices do not. */
function isIncidentCard(card: Record<string, unknown>): boolean {
  const body = card.body as { id?: string }[] | undefined;
  return Array.isArray(body) && body[0]?.id === 'incident-header';
}

/**
 * The incident card in every copy: what it shows to whom, and keeping every copy true. After a
 * change (a state change, newly affected users) each copy already sent is replaced through the
 * outbox with the current view: supervisors see their own people and the actions, channels a
 * read-only view that Teams refreshes into the actionable one for supervisors and support.
 */
export class IncidentCards {
  constructor(private readonly deps: IncidentCardsDeps) {}

  private rule(ruleId: string): Rule | undefined {
    return this.deps.rules().find((r) => r.id === ruleId);
  }

  /** How each affected user's workaround went, from the outbox. */
  private deliveries(incidentId: number): Map<string, string> {
    const out = new Map<string, string>();
    for (const item of this.deps.outbox.items({ incidentId, role: 'affected', limit: 10_000 })) {
      const userId = item.notification.recipient.userId;
      if (!userId || item.notification.recipient.updateActivityId) continue;
      const text =
        item.status === 'sent' ? 'workaround sent' : item.status === 'unreachable' ? `not reachable: ${quote(item.lastError ?? 'unknown')}` : item.status === 'failed' ? 'could not be sent' : 'sending';
      // The latest notification of a user decides (a later one may have reached them).
      if (out.get(userId) !== 'workaround sent') out.set(userId, text);
    }
    return out;
  }

  private feedback(incidentId: number): string {
    const all = this.deps.incidents.feedback(incidentId);
    if (!all.length) return '';
    const helped = all.filter((f) => f.helped).length;
    return `${helped} helped, ${all.length - helped} still not working`;
  }

  /** Staff who see the actions on a refreshed card: supervisors of the affected users, and support (Teams allows 60). */
  refreshUserIds(incidentId: number): string[] {
    const { directory, state } = this.deps;
    const ids: string[] = [];
    for (const u of state.incidentUsers(incidentId)) {
      const sup = directory.supervisorOf(u.userId);
      if (sup?.aadObjectId) ids.push(sup.aadObjectId);
    }
    for (const p of directory.people) if (p.role === 'support' && p.aadObjectId) ids.push(p.aadObjectId);
    return [...new Set(ids)].slice(0, 60);
  }

  escalationChoices(): { title: string; value: string }[] {
    const support = this.deps.directory.people.filter((p) => p.role === 'support').slice(0, 10);
    return [{ title: 'The support channel', value: 'channel' }, ...support.map((p) => ({ title: `${p.displayName} (support)`, value: `person:${p.userId}` }))];
  }

  /**
   * The card for one reader: `supervisor` shows their people among the affected; `actions` shows
   * the buttons (only for supervisors and support: the caller decides).
   */
  view(incidentId: number, options: { supervisor?: Person; actions: boolean; withHistory?: boolean }): Record<string, unknown> | undefined {
    const { state, incidents, directory, cards, timeZone } = this.deps;
    const incident = state.incident(incidentId);
    const rule = incident && this.rule(incident.ruleId);
    if (!incident || !rule) return undefined;
    const users = state.incidentUsers(incidentId);
    const last = incidents.lastChange(incidentId);
    const data = incidentCardData({
      rule,
      incident,
      users,
      delivery: this.deliveries(incidentId),
      directory,
      zone: timeZone,
      actions: options.actions,
      refreshUserIds: this.refreshUserIds(incidentId),
      escalateTo: this.escalationChoices(),
      feedback: this.feedback(incidentId),
      ...(last ? { stateBy: { name: last.actorName, at: last.at, ...(last.detail && last.action !== 'snoozed' ? { note: quote(last.detail) } : {}) } } : {}),
      ...(options.supervisor ? { yourPeople: users.filter((u) => directory.byUserId(u.userId)?.supervisorId === options.supervisor!.userId) } : {}),
      ...(options.withHistory
        ? {
            audit: incidents.audit(incidentId).map((e) => ({
              at: formatTime(e.at, timeZone),
              who: e.actorName,
              what: e.action === 'snoozed' && e.detail ? `snoozed until ${formatTime(Date.parse(e.detail), timeZone)}` : e.detail ? `${e.action}: ${quote(e.detail)}` : e.action,
            })),
          }
        : {}),
    });
    const signed = { ...data, sig: incidents.sign(incidentId, 'incident') };
    return cards.render('incident', signed) as unknown as Record<string, unknown>;
  }

  /** A new copy of the incident card for a recipient (supervisor: with their people and the actions). */
  notification(incident: IncidentRow, recipient: Recipient, idempotencyKey: string, events: string[]): Notification | undefined {
    const supervisor = recipient.role === 'supervisor' && recipient.userId ? this.deps.directory.byUserId(recipient.userId) : undefined;
    const card = this.view(incident.id, { ...(supervisor ? { supervisor } : {}), actions: recipient.role !== 'channel' });
    if (!card) return undefined;
    return { idempotencyKey, ruleId: incident.ruleId, incidentId: incident.id, recipient, card, events, createdAt: this.deps.clock() };
  }

  /** Replaces every copy of the incident card already sent with the current view. */
  sync(incidentId: number): number {
    const { outbox, state } = this.deps;
    const incident = state.incident(incidentId);
    if (!incident) return 0;
    const updates: Notification[] = [];
    for (const item of outbox.items({ incidentId, status: 'sent', limit: 10_000 })) {
      const r = item.notification.recipient;
      if (r.role === 'affected' || r.updateActivityId || !item.conversationId || !item.activityId || !isIncidentCard(item.notification.card)) continue;
      const supervisor = r.role === 'supervisor' && r.userId ? this.deps.directory.byUserId(r.userId) : undefined;
      const card = this.view(incidentId, { ...(supervisor ? { supervisor } : {}), actions: r.role !== 'channel' });
      if (!card) continue;
      updates.push({
        idempotencyKey: `update:${item.id}:v${incident.version}:${state.incidentUsers(incidentId).length}`,
        ruleId: incident.ruleId,
        incidentId,
        recipient: { ...r, conversationId: item.conversationId, updateActivityId: item.activityId },
        card,
        events: item.notification.events,
        createdAt: this.deps.clock(),
      });
    }
    return updates.length ? (this.deps.sink ?? outbox).enqueue(updates) : 0;
  }

  /** Conversations that get incident notices for a rule (subscribed to it or to everything). */
  channels(ruleId: string): string[] {
    return this.deps.state.subscribers(ruleId);
  }

  /** The support channels: conversations subscribed to every rule. */
  supportChannels(): string[] {
    return this.deps.state.subscribers(ALL_RULES);
  }
}
