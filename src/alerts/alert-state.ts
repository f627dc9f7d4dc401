import Database from 'better-sqlite3';
import { KeyState } from './rule-types';

/**
 * The alert engine's durable memory, in the state store's SQLite database: per rule a checkpoint
 * (events before it have been evaluated), the per-key state of its type, when each key was last
 * told, the events already seen inside the look-back window (so a late-arriving event is counted
 * once), incidents with their affected users, and channel subscriptions.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS alert_checkpoints (
  rule_id TEXT PRIMARY KEY,
  checkpoint INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_keys (
  rule_id TEXT NOT NULL,
  key TEXT NOT NULL,
  state TEXT,
  last_notified INTEGER,
  PRIMARY KEY (rule_id, key)
);
CREATE TABLE IF NOT EXISTS alert_seen (
  rule_id TEXT NOT NULL,
  source TEXT NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (rule_id, source)
);
CREATE INDEX IF NOT EXISTS alert_seen_ts ON alert_seen (rule_id, ts);
CREATE TABLE IF NOT EXISTS incidents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  rule_id TEXT NOT NULL,
  state TEXT NOT NULL,
  opened_at INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  events INTEGER NOT NULL,
  snoozed_until INTEGER,
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS incidents_rule ON incidents (rule_id, state);
CREATE TABLE IF NOT EXISTS incident_users (
  incident_id INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  events INTEGER NOT NULL,
  summary TEXT,
  PRIMARY KEY (incident_id, user_id)
);
CREATE TABLE IF NOT EXISTS subscriptions (
  conversation_id TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  created_by TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, rule_id)
);
CREATE TABLE IF NOT EXISTS system_notices (
  topic TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  changed_at INTEGER NOT NULL
);
`;

/** `*`: every rule, plus the engine's own notices (delays, unreachable users): the support channel. */
export const ALL_RULES = '*';

export type IncidentState = 'open' | 'acknowledged' | 'escalated' | 'resolved';

export interface IncidentRow {
  id: number;
  ruleId: string;
  state: IncidentState;
  openedAt: number;
  firstSeen: number;
  lastSeen: number;
  events: number;
  snoozedUntil?: number;
  updatedAt: number;
  version: number;
}

export interface IncidentUser {
  userId: string;
  firstSeen: number;
  lastSeen: number;
  events: number;
  /** What happened to them first, e.g. "PUT /api/documents/11213 refused at Fri 12 Jun 12:57 (document 11213)". */
  summary: string;
}

export interface KeyRecord {
  state?: KeyState;
  lastNotified?: number;
}

type Row = Record<string, string | number | null>;

export class AlertState {
  constructor(readonly db: Database.Database) {
    db.exec(SCHEMA);
  }

  /** Runs fn in one transaction: the engine's checkpoint, key states and outbox entries commit together. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  checkpoint(ruleId: string): number | undefined {
    const row = this.db.prepare('SELECT checkpoint FROM alert_checkpoints WHERE rule_id = ?').get(ruleId) as { checkpoint: number } | undefined;
    return row?.checkpoint;
  }

  setCheckpoint(ruleId: string, checkpoint: number, now: number): void {
    this.db
      .prepare('INSERT INTO alert_checkpoints VALUES (?, ?, ?) ON CONFLICT(rule_id) DO UPDATE SET checkpoint = excluded.checkpoint, updated_at = excluded.updated_at')
      .run(ruleId, checkpoint, now);
  }

  keys(ruleId: string): Map<string, KeyRecord> {
    const out = new Map<string, KeyRecord>();
    for (const row of this.db.prepare('SELECT key, state, last_notified FROM alert_keys WHERE rule_id = ?').all(ruleId) as Row[]) {
      const record: KeyRecord = {};
      if (row.state) record.state = JSON.parse(row.state as string) as KeyState;
      if (row.last_notified !== null) record.lastNotified = row.last_notified as number;
      out.set(row.key as string, record);
    }
    return out;
  }

  /** Replaces the rule's key records (keys with neither state nor a notification time are dropped). */
  saveKeys(ruleId: string, keys: Map<string, KeyRecord>): void {
    this.db.prepare('DELETE FROM alert_keys WHERE rule_id = ?').run(ruleId);
    const put = this.db.prepare('INSERT INTO alert_keys VALUES (?, ?, ?, ?)');
    for (const [key, r] of keys) {
      if (!r.state && r.lastNotified === undefined) continue;
      put.run(ruleId, key, r.state ? JSON.stringify(r.state) : null, r.lastNotified ?? null);
    }
  }

  /** Which of these event sources this rule has already evaluated. */
  seen(ruleId: string, sources: string[]): Set<string> {
    const out = new Set<string>();
    const stmt = this.db.prepare('SELECT 1 FROM alert_seen WHERE rule_id = ? AND source = ?');
    for (const s of sources) if (stmt.get(ruleId, s)) out.add(s);
    return out;
  }

  /** Remembers evaluated events and forgets those older than `before` (outside the look-back window). */
  markSeen(ruleId: string, events: { source: string; ts: number }[], before: number): void {
    const put = this.db.prepare('INSERT OR IGNORE INTO alert_seen VALUES (?, ?, ?)');
    for (const e of events) put.run(ruleId, e.source, e.ts);
    this.db.prepare('DELETE FROM alert_seen WHERE rule_id = ? AND ts < ?').run(ruleId, before);
  }

  /** The rule's incident that is not resolved, if any. */
  openIncident(ruleId: string): IncidentRow | undefined {
    const row = this.db.prepare("SELECT * FROM incidents WHERE rule_id = ? AND state != 'resolved' ORDER BY id DESC LIMIT 1").get(ruleId) as Row | undefined;
    return row ? toIncident(row) : undefined;
  }

  incident(id: number): IncidentRow | undefined {
    const row = this.db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as Row | undefined;
    return row ? toIncident(row) : undefined;
  }

  incidents(filter: { states?: IncidentState[]; ruleId?: string } = {}): IncidentRow[] {
    const rows = this.db.prepare('SELECT * FROM incidents ORDER BY id DESC').all() as Row[];
    return rows
      .map(toIncident)
      .filter((i) => (!filter.states || filter.states.includes(i.state)) && (!filter.ruleId || i.ruleId === filter.ruleId));
  }

  openNewIncident(ruleId: string, at: number, now: number): IncidentRow {
    const id = this.db
      .prepare("INSERT INTO incidents (rule_id, state, opened_at, first_seen, last_seen, events, updated_at) VALUES (?, 'open', ?, ?, ?, 0, ?)")
      .run(ruleId, now, at, at, now).lastInsertRowid as number;
    return this.incident(id)!;
  }

  /**
   * Adds matching events of a user to an incident; returns true when the user is new to it.
   * `summary` (what happened to them first, for the cards) is kept from the first time.
   */
  addToIncident(incidentId: number, userId: string, events: { ts: number }[], now: number, summary?: string): boolean {
    const first = Math.min(...events.map((e) => e.ts));
    const last = Math.max(...events.map((e) => e.ts));
    const existing = this.db.prepare('SELECT 1 FROM incident_users WHERE incident_id = ? AND user_id = ?').get(incidentId, userId);
    this.db
      .prepare(
        `INSERT INTO incident_users VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(incident_id, user_id) DO UPDATE SET
           first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen), events = events + excluded.events`,
      )
      .run(incidentId, userId, first, last, events.length, summary ?? null);
    this.db
      .prepare('UPDATE incidents SET first_seen = min(first_seen, ?), last_seen = max(last_seen, ?), events = events + ?, updated_at = ? WHERE id = ?')
      .run(first, last, events.length, now, incidentId);
    return !existing;
  }

  incidentUsers(incidentId: number): IncidentUser[] {
    return (this.db.prepare('SELECT * FROM incident_users WHERE incident_id = ? ORDER BY first_seen').all(incidentId) as Row[]).map((r) => ({
      userId: r.user_id as string,
      firstSeen: r.first_seen as number,
      lastSeen: r.last_seen as number,
      events: r.events as number,
      summary: (r.summary as string | null) ?? '',
    }));
  }

  /** Forgets when the rule last told each key (after a resolution, a recurrence is news again). */
  clearNotified(ruleId: string): void {
    this.db.prepare('UPDATE alert_keys SET last_notified = NULL WHERE rule_id = ?').run(ruleId);
    this.db.prepare('DELETE FROM alert_keys WHERE rule_id = ? AND state IS NULL').run(ruleId);
  }

  /** The rule's most recent incident, whatever its state. */
  latestIncident(ruleId: string): IncidentRow | undefined {
    const row = this.db.prepare('SELECT * FROM incidents WHERE rule_id = ? ORDER BY id DESC LIMIT 1').get(ruleId) as Row | undefined;
    return row ? toIncident(row) : undefined;
  }

  subscribe(conversationId: string, ruleId: string, by: string | undefined, now: number): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO subscriptions VALUES (?, ?, ?, ?)').run(conversationId, ruleId, by ?? null, now).changes > 0;
  }

  unsubscribe(conversationId: string, ruleId: string): boolean {
    return this.db.prepare('DELETE FROM subscriptions WHERE conversation_id = ? AND rule_id = ?').run(conversationId, ruleId).changes > 0;
  }

  /** The rules a conversation is subscribed to. */
  subscriptionsOf(conversationId: string): string[] {
    return (this.db.prepare('SELECT rule_id FROM subscriptions WHERE conversation_id = ? ORDER BY rule_id').all(conversationId) as Row[]).map(
      (r) => r.rule_id as string,
    );
  }

  /** Conversations that get a rule's notices (subscribed to it or to everything). */
  subscribers(ruleId: string): string[] {
    return (
      this.db.prepare('SELECT DISTINCT conversation_id FROM subscriptions WHERE rule_id IN (?, ?) ORDER BY conversation_id').all(ruleId, ALL_RULES) as Row[]
    ).map((r) => r.conversation_id as string);
  }

  /** Records a system condition (e.g. 'store' → 'delayed'); returns true when it changed (so it is told once). */
  setSystemState(topic: string, state: string, now: number): boolean {
    const row = this.db.prepare('SELECT state FROM system_notices WHERE topic = ?').get(topic) as { state: string } | undefined;
    if (row?.state === state) return false;
    this.db.prepare('INSERT INTO system_notices VALUES (?, ?, ?) ON CONFLICT(topic) DO UPDATE SET state = excluded.state, changed_at = excluded.changed_at').run(topic, state, now);
    return true;
  }

  systemState(topic: string): string | undefined {
    return (this.db.prepare('SELECT state FROM system_notices WHERE topic = ?').get(topic) as { state: string } | undefined)?.state;
  }
}

function toIncident(row: Row): IncidentRow {
  const out: IncidentRow = {
    id: row.id as number,
    ruleId: row.rule_id as string,
    state: row.state as IncidentState,
    openedAt: row.opened_at as number,
    firstSeen: row.first_seen as number,
    lastSeen: row.last_seen as number,
    events: row.events as number,
    updatedAt: row.updated_at as number,
    version: row.version as number,
  };
  if (row.snoozed_until !== null && row.snoozed_until !== undefined) out.snoozedUntil = row.snoozed_until as number;
  return out;
}
