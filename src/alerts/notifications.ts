/**
 * Notifications: what the alert engine decided to tell whom, kept in a durable outbox until a
 * Notifier delivers them. Each has an idempotency key, so a restart or a replay never creates the
 * same notification twice.
 */
/** affected: the user hit; supervisor: their supervisor; channel: a subscribed conversation; escalation: a person an incident was escalated to. */
export type RecipientRole = 'affected' | 'supervisor' | 'channel' | 'escalation';

export interface Recipient {
  role: RecipientRole;
  /** The log user id (absent for a channel). */
  userId?: string;
  /** Microsoft Entra object id of the person (absent for a channel). */
  aadObjectId?: string;
  name?: string;
  /** For a channel or group chat: its conversation id (a stored conversation reference). */
  conversationId?: string;
  /** Replace this earlier message (in `conversationId`) instead of sending a new one: cards stay true. */
  updateActivityId?: string;
}

export interface Notification {
  /** Unique per (rule, key, what triggered it, recipient): enqueuing the same key again is a no-op. */
  idempotencyKey: string;
  ruleId: string;
  /** The incident the notification belongs to, when there is one. */
  incidentId?: number;
  recipient: Recipient;
  /** The rendered Adaptive Card. */
  card: Record<string, unknown>;
  /** Provenance of the events that triggered it: `APP01/api/2020-06-12.log:866`. */
  events: string[];
  /** Epoch ms when the engine decided it. */
  createdAt: number;
}

/** What happened to one delivery attempt. */
export type Delivery =
  | { outcome: 'sent'; conversationId: string; activityId?: string }
  /** Try again later: Teams said 429 (honour retryAfterMs), 5xx, or the connection failed. */
  | { outcome: 'retry'; reason: string; retryAfterMs?: number }
  /** Nobody to send to: not in the directory, app not installed, no conversation and none can be created. */
  | { outcome: 'unreachable'; reason: string }
  /** Teams refused it for good (a 4xx other than 429). */
  | { outcome: 'failed'; reason: string };

/** Sends one notification. Implementations: dry run (records) and Teams (bot/notifier.ts). */
export interface Notifier {
  readonly name: string;
  deliver(notification: Notification): Promise<Delivery>;
}

/** Records every notification and reports it sent: `alerts run --dry-run` and tests. */
export class DryRunNotifier implements Notifier {
  readonly name = 'dry-run';
  readonly delivered: Notification[] = [];

  async deliver(notification: Notification): Promise<Delivery> {
    this.delivered.push(notification);
    return { outcome: 'sent', conversationId: `dry-run:${notification.recipient.conversationId ?? notification.recipient.aadObjectId ?? notification.recipient.userId ?? 'unknown'}` };
  }
}

/** Where notifications go to be delivered (the durable outbox). */
export interface NotificationSink {
  /** Adds notifications; an idempotency key already present is ignored. Returns how many were new. */
  enqueue(notifications: Notification[]): number;
}
