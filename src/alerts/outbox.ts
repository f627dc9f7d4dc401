import Database from 'better-sqlite3';
import { Delivery, Notification, Recipient, RecipientRole } from './notifications';

/**
 * The durable outbox: every notification the engine decides on is written here (in the same
 * transaction as the engine's checkpoint) before anything is sent, and the dispatcher works it
 * off. A row moves `pending → sending → sent | unreachable | failed`, and back to `pending` for a
 * retry. It lives in the state database (`SqliteStateStore.db`) so the engine can enqueue and
 * checkpoint atomically.
 *
 * Delivery is at-least-once, not exactly-once: see {@link Outbox.recoverInFlight}.
 */

/** Where a notification is in its life. `sent`, `unreachable` and `failed` are final. */
export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'unreachable' | 'failed';

/** Every status, in life-cycle order (reports list them all, zeros included). */
export const OUTBOX_STATUSES: readonly OutboxStatus[] = ['pending', 'sending', 'sent', 'unreachable', 'failed'];

/** One row of the outbox. Times are epoch milliseconds. */
export interface OutboxItem {
  id: number;
  notification: Notification;
  /** The rate-limit key: see {@link conversationKey}. */
  conversationKey: string;
  status: OutboxStatus;
  /** Delivery attempts made so far (a send interrupted by a crash counts as one). */
  attempts: number;
  /** When a `pending` item may be tried next. */
  nextAttemptAt: number;
  /** While `sending`: when the claim expires and {@link Outbox.recoverInFlight} may take it back. */
  leaseUntil?: number;
  /** The reason of the last retry, or why it is unreachable or failed. */
  lastError?: string;
  /** Set once sent: the conversation it went to and the activity id Teams gave it. */
  conversationId?: string;
  activityId?: string;
  sentAt?: number;
  updatedAt: number;
  /**
   * Set by a `claimDue` with `perConversation`: how many due items its conversation had at the
   * claim, this one included. The dispatcher serves the longest backlogs first.
   */
  backlog?: number;
}

/** Retry spacing after a `retry` outcome. */
export interface BackoffPolicy {
  /** Delay after the first failed attempt (ms); doubles with every further attempt. */
  baseMs: number;
  /** Upper bound of the exponential part (ms). A longer `Retry-After` is still honoured. */
  maxMs: number;
  /** Jitter source in [0, 1). Default `Math.random`; tests pass a constant. */
  random?: () => number;
}

export interface OutboxOptions {
  /** Attempts after which a notification that keeps being retried is marked `failed`. Default 10. */
  maxAttempts?: number;
  /** How long a claim (`sending`) is held before it counts as abandoned (ms). Default 5 minutes. */
  leaseMs?: number;
}

/** Options of {@link Outbox.claimDue}. */
export interface ClaimOptions {
  /** At most this many items per conversation key in one claim. */
  perConversation?: number;
  /** Conversation keys to leave alone. */
  excludeConversations?: string[];
}

/** Reporting filter for {@link Outbox.items}. Results are ordered by id (enqueue order). */
export interface OutboxFilter {
  ruleId?: string;
  status?: OutboxStatus | OutboxStatus[];
  role?: RecipientRole;
  incidentId?: number;
  /** Default 100. */
  limit?: number;
  offset?: number;
}

/**
 * The key Teams rate-limits a send by: the conversation. For a person without a known
 * conversation yet, their Entra id (or log user id) stands in: one person, one 1:1 chat.
 */
export function conversationKey(recipient: Recipient): string {
  return recipient.conversationId ?? recipient.aadObjectId ?? recipient.userId ?? '';
}

/**
 * Delay before retry number `attempt` (1 = after the first failure): exponential, capped at
 * `maxMs`, with "equal jitter" (between half and all of it) so that many notifications failing
 * together do not all come back in the same millisecond.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const random = (policy.random ?? Math.random)();
  return Math.round(exponential / 2 + (random * exponential) / 2);
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  idempotency_key TEXT NOT NULL UNIQUE,
  rule_id TEXT NOT NULL,
  incident_id INTEGER,
  recipient_role TEXT NOT NULL,
  conversation_key TEXT NOT NULL,
  recipient TEXT NOT NULL,
  card TEXT NOT NULL,
  events TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'unreachable', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until INTEGER,
  last_error TEXT,
  delivered_conversation_id TEXT,
  activity_id TEXT,
  sent_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_rule ON outbox (rule_id, status);
CREATE INDEX IF NOT EXISTS outbox_incident ON outbox (incident_id);
CREATE INDEX IF NOT EXISTS outbox_conversation ON outbox (status, conversation_key, created_at);
`;

interface Row {
  id: number;
  idempotency_key: string;
  rule_id: string;
  incident_id: number | null;
  recipient_role: string;
  conversation_key: string;
  recipient: string;
  card: string;
  events: string;
  created_at: number;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_error: string | null;
  delivered_conversation_id: string | null;
  activity_id: string | null;
  sent_at: number | null;
  updated_at: number;
}

function toItem(row: Row): OutboxItem {
  const notification: Notification = {
    idempotencyKey: row.idempotency_key,
    ruleId: row.rule_id,
    recipient: JSON.parse(row.recipient) as Recipient,
    card: JSON.parse(row.card) as Record<string, unknown>,
    events: JSON.parse(row.events) as string[],
    createdAt: row.created_at,
  };
  if (row.incident_id !== null) notification.incidentId = row.incident_id;
  const item: OutboxItem = {
    id: row.id,
    notification,
    conversationKey: row.conversation_key,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    updatedAt: row.updated_at,
  };
  if (row.lease_until !== null) item.leaseUntil = row.lease_until;
  if (row.last_error !== null) item.lastError = row.last_error;
  if (row.delivered_conversation_id !== null) item.conversationId = row.delivered_conversation_id;
  if (row.activity_id !== null) item.activityId = row.activity_id;
  if (row.sent_at !== null) item.sentAt = row.sent_at;
  return item;
}

const NOT_EXCLUDED = 'conversation_key NOT IN (SELECT value FROM json_each(@exclude))';

const byAge = (a: OutboxItem, b: OutboxItem) => a.notification.createdAt - b.notification.createdAt || a.id - b.id;

/** The outbox table over a better-sqlite3 handle (normally `SqliteStateStore.db`). */
export class Outbox {
  private readonly maxAttempts: number;
  private readonly leaseMs: number;
  private readonly insert: Database.Statement;
  private readonly claim: Database.Statement;
  private readonly claimFair: Database.Statement;
  private readonly backlogs: Database.Statement;
  private readonly claimFairTx: (params: Record<string, string | number>) => OutboxItem[];
  private readonly byId: Database.Statement;
  private readonly stmt: Record<'sent' | 'retry' | 'final' | 'release' | 'recover' | 'next', Database.Statement>;
  private readonly recordTx: (id: number, delivery: Delivery, now: number, backoff: BackoffPolicy) => OutboxStatus | undefined;

  constructor(
    private readonly db: Database.Database,
    options: OutboxOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 10;
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    if (!(this.maxAttempts >= 1)) throw new RangeError(`maxAttempts must be at least 1, got ${this.maxAttempts}`);
    db.exec(SCHEMA);
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO outbox (idempotency_key, rule_id, incident_id, recipient_role, conversation_key, recipient, card, events,
         created_at, status, attempts, next_attempt_at, updated_at)
       VALUES (@key, @ruleId, @incidentId, @role, @conversationKey, @recipient, @card, @events, @createdAt, 'pending', 0, @createdAt, @createdAt)`,
    );
    // One statement claims, so two dispatchers (or a dispatcher and a restarted one) can never
    // claim the same row. RETURNING does not promise an order: callers get them sorted below.
    this.claim = db.prepare(
      `UPDATE outbox SET status = 'sending', lease_until = @lease, updated_at = @now
       WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= @now AND ${NOT_EXCLUDED} ORDER BY created_at, id LIMIT @limit)
       RETURNING *`,
    );
    // Fair across conversations: round-robin (every conversation's oldest item, then every
    // conversation's second oldest, ...), at most @per each. Strictly oldest first, a backlog of
    // a hundred cards for one person would fill the batch, go out at that conversation's 7/s while
    // the tenant's 50/s idles, and keep everyone else's first card waiting behind it.
    this.claimFair = db.prepare(
      `UPDATE outbox SET status = 'sending', lease_until = @lease, updated_at = @now
       WHERE id IN (
         SELECT id FROM (
           SELECT id, created_at, ROW_NUMBER() OVER (PARTITION BY conversation_key ORDER BY created_at, id) AS n
           FROM outbox WHERE status = 'pending' AND next_attempt_at <= @now AND ${NOT_EXCLUDED}
         ) WHERE n <= @per ORDER BY n, created_at, id LIMIT @limit)
       RETURNING *`,
    );
    // How many are due per claimed conversation: the dispatcher serves the longest backlogs first.
    this.backlogs = db.prepare(
      `SELECT conversation_key AS key, COUNT(*) AS n FROM outbox
       WHERE conversation_key IN (SELECT value FROM json_each(@keys)) AND status = 'pending' AND next_attempt_at <= @now
       GROUP BY conversation_key`,
    );
    this.claimFairTx = db.transaction((params: Record<string, string | number>) => {
      const items = (this.claimFair.all(params) as Row[]).map(toItem);
      const claimed = new Map<string, number>();
      for (const item of items) claimed.set(item.conversationKey, (claimed.get(item.conversationKey) ?? 0) + 1);
      const left = new Map(
        (this.backlogs.all({ keys: JSON.stringify([...claimed.keys()]), now: params.now! }) as { key: string; n: number }[]).map((r) => [r.key, r.n]),
      );
      for (const item of items) item.backlog = claimed.get(item.conversationKey)! + (left.get(item.conversationKey) ?? 0);
      return items;
    });
    this.byId = db.prepare('SELECT * FROM outbox WHERE id = ?');
    const set = 'attempts = @attempts, lease_until = NULL, updated_at = @now';
    this.stmt = {
      sent: db.prepare(
        `UPDATE outbox SET status = 'sent', ${set}, delivered_conversation_id = @conversationId, activity_id = @activityId, sent_at = @now WHERE id = @id`,
      ),
      retry: db.prepare(`UPDATE outbox SET status = 'pending', ${set}, next_attempt_at = @next, last_error = @reason WHERE id = @id`),
      final: db.prepare(`UPDATE outbox SET status = @status, ${set}, last_error = @reason WHERE id = @id`),
      release: db.prepare(
        `UPDATE outbox SET status = 'pending', lease_until = NULL, next_attempt_at = @next, updated_at = @now WHERE id = @id AND status = 'sending'`,
      ),
      recover: db.prepare(
        `UPDATE outbox SET
           attempts = attempts + 1,
           status = CASE WHEN attempts + 1 >= @max THEN 'failed' ELSE 'pending' END,
           last_error = CASE WHEN attempts + 1 >= @max THEN 'gave up after ' || (attempts + 1) || ' attempts: interrupted while sending'
                             ELSE 'interrupted while sending (lease expired)' END,
           next_attempt_at = @now, lease_until = NULL, updated_at = @now
         WHERE status = 'sending' AND lease_until <= @until`,
      ),
      next: db.prepare("SELECT MIN(next_attempt_at) AS t FROM outbox WHERE status = 'pending'"),
    };
    this.recordTx = db.transaction((id: number, delivery: Delivery, now: number, backoff: BackoffPolicy) => this.recordNow(id, delivery, now, backoff));
  }

  /**
   * Adds notifications as `pending`, due at once. An idempotency key already present (in any
   * status) is left alone. Safe inside a caller's transaction: better-sqlite3 nests it as a
   * savepoint, so the engine's checkpoint and these rows commit or roll back together.
   * @returns how many were new.
   */
  enqueue(notifications: Notification[]): number {
    const run = this.db.transaction((list: Notification[]) => {
      let added = 0;
      for (const n of list) {
        added += this.insert.run({
          key: n.idempotencyKey,
          ruleId: n.ruleId,
          incidentId: n.incidentId ?? null,
          role: n.recipient.role,
          conversationKey: conversationKey(n.recipient),
          recipient: JSON.stringify(n.recipient),
          card: JSON.stringify(n.card),
          events: JSON.stringify(n.events),
          createdAt: n.createdAt,
        }).changes;
      }
      return added;
    });
    return run(notifications);
  }

  /**
   * Claims up to `limit` pending items due at `now`, oldest first, marking them `sending` with a
   * lease of `leaseMs`. With `perConversation`: at most that many per conversation key, taken
   * round-robin across conversations (each one's oldest first, then each one's second, ...), so
   * one person's backlog never delays another person's first card. With `excludeConversations`:
   * none of those keys (the caller already holds items of them). Returned oldest first.
   */
  claimDue(now: number, limit: number, options: ClaimOptions = {}): OutboxItem[] {
    if (limit <= 0) return [];
    const params = { now, lease: now + this.leaseMs, limit: Math.floor(limit), exclude: JSON.stringify(options.excludeConversations ?? []) };
    const items =
      options.perConversation === undefined
        ? (this.claim.all(params) as Row[]).map(toItem)
        : this.claimFairTx({ ...params, per: Math.max(1, Math.floor(options.perConversation)) });
    return items.sort(byAge);
  }

  /**
   * Records the outcome of one attempt on a claimed item and returns its new status:
   * - `sent`: final, with the conversation, the activity id and the time;
   * - `retry`: back to `pending`, due after max(`retryAfterMs`, backoff) — or `failed` once
   *   `maxAttempts` attempts have been made;
   * - `unreachable` / `failed`: final, with the reason.
   *
   * A final item is never changed again (returns its status as is). A late `sent` for an item
   * whose lease had expired is still recorded: it went out, so it must not go out again.
   * @returns the new status, or undefined when there is no such item.
   */
  record(id: number, delivery: Delivery, now: number, backoff: BackoffPolicy): OutboxStatus | undefined {
    return this.recordTx(id, delivery, now, backoff);
  }

  private recordNow(id: number, delivery: Delivery, now: number, backoff: BackoffPolicy): OutboxStatus | undefined {
    const row = this.byId.get(id) as Row | undefined;
    if (!row) return undefined;
    if (row.status === 'sent' || row.status === 'unreachable' || row.status === 'failed') return row.status;
    const attempts = row.attempts + 1;
    switch (delivery.outcome) {
      case 'sent':
        this.stmt.sent.run({ id, attempts, now, conversationId: delivery.conversationId, activityId: delivery.activityId ?? null });
        return 'sent';
      case 'retry': {
        if (attempts >= this.maxAttempts) {
          this.stmt.final.run({ id, attempts, now, status: 'failed', reason: `gave up after ${attempts} attempts: ${delivery.reason}` });
          return 'failed';
        }
        // Retry-After is a floor Teams sets; the backoff cap only bounds our own spacing.
        const delay = Math.max(delivery.retryAfterMs ?? 0, backoffDelay(attempts, backoff));
        this.stmt.retry.run({ id, attempts, now, next: now + Math.ceil(delay), reason: delivery.reason });
        return 'pending';
      }
      case 'unreachable':
      case 'failed':
        this.stmt.final.run({ id, attempts, now, status: delivery.outcome, reason: delivery.reason });
        return delivery.outcome;
    }
  }

  /**
   * Gives claimed items back without counting an attempt: the dispatcher claimed them but did not
   * try them (it is stopping, or their conversation is held by a `Retry-After`).
   * @returns how many were released.
   */
  release(ids: number[], nextAttemptAt: number, now: number = nextAttemptAt): number {
    if (!ids.length) return 0;
    const run = this.db.transaction(() => ids.reduce((n, id) => n + this.stmt.release.run({ id, next: nextAttemptAt, now }).changes, 0));
    return run();
  }

  /**
   * Takes back items left `sending` whose lease has expired — a dispatcher that crashed, or a
   * send that hung past its lease — and makes them `pending` again, due at once. The interrupted
   * send counts as an attempt (so a notification that crashes the process every time ends up
   * `failed` instead of looping), which can turn an item `failed` here.
   *
   * This is where delivery becomes at-least-once: if the process died after Teams accepted a
   * message but before {@link record} committed `sent`, nothing here can know that, and that one
   * message is sent a second time. The window is one request round trip per in-flight item (at
   * most the dispatcher's concurrency); closing it would need Teams to deduplicate on our key,
   * which the Bot Connector API does not offer.
   * With `ignoreLease`, every `sending` item is taken back: for the start of the only process
   * that sends from this outbox, when no live claim can exist and waiting out the lease would
   * only delay what a crash interrupted.
   * @returns how many items were taken back (including any that became `failed`).
   */
  recoverInFlight(now: number, options: { ignoreLease?: boolean } = {}): number {
    return this.stmt.recover.run({ now, max: this.maxAttempts, until: options.ignoreLease ? Number.MAX_SAFE_INTEGER : now }).changes;
  }

  /** The earliest time a pending item is due, or undefined when nothing is pending. */
  nextAttemptAt(): number | undefined {
    const row = this.stmt.next.get() as { t: number | null };
    return row.t ?? undefined;
  }

  /** How many items are in each status (every status present, zeros included). */
  counts(): Record<OutboxStatus, number> {
    const counts = Object.fromEntries(OUTBOX_STATUSES.map((s) => [s, 0])) as Record<OutboxStatus, number>;
    for (const r of this.db.prepare('SELECT status, COUNT(*) AS n FROM outbox GROUP BY status').all() as { status: OutboxStatus; n: number }[]) {
      counts[r.status] = r.n;
    }
    return counts;
  }

  /**
   * What a rule has delivered: new messages, and replacements of cards already sent (updates),
   * counted in SQL so a rule that reached thousands of users costs no more than one that reached few.
   */
  sentByRule(ruleId: string): { messages: number; updates: number } {
    const row = this.db
      .prepare(
        `SELECT COALESCE(SUM(json_extract(recipient, '$.updateActivityId') IS NULL), 0) AS messages,
                COALESCE(SUM(json_extract(recipient, '$.updateActivityId') IS NOT NULL), 0) AS updates
           FROM outbox WHERE rule_id = ? AND status = 'sent'`,
      )
      .get(ruleId) as { messages: number; updates: number };
    return { messages: row.messages, updates: row.updates };
  }

  /** Items matching the filter, in enqueue order. */
  items(filter: OutboxFilter = {}): OutboxItem[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.ruleId !== undefined) {
      where.push('rule_id = ?');
      params.push(filter.ruleId);
    }
    if (filter.status !== undefined) {
      const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
      if (!statuses.length) return [];
      where.push(`status IN (${statuses.map(() => '?').join(', ')})`);
      params.push(...statuses);
    }
    if (filter.role !== undefined) {
      where.push('recipient_role = ?');
      params.push(filter.role);
    }
    if (filter.incidentId !== undefined) {
      where.push('incident_id = ?');
      params.push(filter.incidentId);
    }
    const sql = `SELECT * FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ? OFFSET ?`;
    return (this.db.prepare(sql).all(...params, filter.limit ?? 100, filter.offset ?? 0) as Row[]).map(toItem);
  }

  /** The item with this idempotency key. */
  find(idempotencyKey: string): OutboxItem | undefined {
    const row = this.db.prepare('SELECT * FROM outbox WHERE idempotency_key = ?').get(idempotencyKey) as Row | undefined;
    return row ? toItem(row) : undefined;
  }
}
