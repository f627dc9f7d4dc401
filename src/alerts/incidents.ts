import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import Database from 'better-sqlite3';
import { Clock } from '../clock';
import { Person, UserDirectory } from '../directory/user-directory';
import { AlertState, IncidentRow, IncidentState } from './alert-state';

/**
 * Incidents: the matches of a rule that belong to one problem, from the first match until
 * resolved. State changes (acknowledge, escalate, resolve, snooze, reopen) and feedback are
 * decided here with their rules and written with an audit trail; who may act is the caller's
 * question (the bot checks the sender's role) — this service checks the state.
 */
export type IncidentAction = 'opened' | 'acknowledged' | 'escalated' | 'resolved' | 'snoozed' | 'reopened' | 'feedback';

export interface AuditEntry {
  at: number;
  actorUserId?: string;
  actorName: string;
  action: IncidentAction;
  /** Why or what: the escalation reason, the resolution message, the snooze end. */
  detail?: string;
}

export interface Feedback {
  userId: string;
  helped: boolean;
  at: number;
}

/** A state change refused: already done, or not possible from the current state. */
export class IncidentConflict extends Error {}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS incident_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  actor_user_id TEXT,
  actor_name TEXT NOT NULL,
  action TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS incident_audit_incident ON incident_audit (incident_id, id);
CREATE TABLE IF NOT EXISTS incident_feedback (
  incident_id INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  helped INTEGER NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (incident_id, user_id)
);
CREATE TABLE IF NOT EXISTS incident_escalations (
  incident_id INTEGER NOT NULL,
  target TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
  name TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
`;

type Row = Record<string, string | number | null>;

export class IncidentStore {
  private readonly key: Buffer;

  constructor(
    private readonly db: Database.Database,
    readonly state: AlertState,
    private readonly clock: Clock,
  ) {
    db.exec(SCHEMA);
    // The key that signs card data: kept with the state, made once.
    const existing = db.prepare("SELECT value FROM secrets WHERE name = 'card-signing'").get() as { value: Buffer } | undefined;
    if (existing) this.key = existing.value;
    else {
      this.key = randomBytes(32);
      db.prepare("INSERT INTO secrets VALUES ('card-signing', ?)").run(this.key);
    }
  }

  /** A signature of an incident id and verb for card data, so a card cannot be edited into another incident. */
  sign(incidentId: number, scope: string): string {
    return createHmac('sha256', this.key).update(`${incidentId}:${scope}`).digest('base64url').slice(0, 22);
  }

  verify(incidentId: number, scope: string, sig: unknown): boolean {
    if (typeof sig !== 'string' || sig.length !== 22) return false;
    const expected = Buffer.from(this.sign(incidentId, scope));
    const given = Buffer.from(sig);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  get(id: number): IncidentRow | undefined {
    return this.state.incident(id);
  }

  audit(incidentId: number): AuditEntry[] {
    return (this.db.prepare('SELECT * FROM incident_audit WHERE incident_id = ? ORDER BY id').all(incidentId) as Row[]).map((r) => {
      const entry: AuditEntry = { at: r.at as number, actorName: r.actor_name as string, action: r.action as IncidentAction };
      if (r.actor_user_id) entry.actorUserId = r.actor_user_id as string;
      if (r.detail) entry.detail = r.detail as string;
      return entry;
    });
  }

  /** The last state change (who, when, why), for the cards' "Acknowledged by …" line. */
  lastChange(incidentId: number): AuditEntry | undefined {
    return this.audit(incidentId)
      .filter((e) => e.action !== 'feedback' && e.action !== 'opened')
      .at(-1);
  }

  feedback(incidentId: number): Feedback[] {
    return (this.db.prepare('SELECT * FROM incident_feedback WHERE incident_id = ? ORDER BY at').all(incidentId) as Row[]).map((r) => ({
      userId: r.user_id as string,
      helped: r.helped === 1,
      at: r.at as number,
    }));
  }

  record(incidentId: number, actor: Pick<Person, 'userId' | 'displayName'> | undefined, action: IncidentAction, detail?: string): void {
    this.db
      .prepare('INSERT INTO incident_audit (incident_id, at, actor_user_id, actor_name, action, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(incidentId, this.clock(), actor?.userId ?? null, actor?.displayName ?? 'the alert engine', action, detail ?? null);
  }

  /**
   * Moves an incident to a new state if it is still at `expectedVersion` (optimistic concurrency:
   * two supervisors clicking at once, one wins, the other is told).
   */
  private transition(incident: IncidentRow, to: IncidentState, fields: { snoozedUntil?: number | null } = {}): IncidentRow {
    const now = this.clock();
    const snooze = 'snoozedUntil' in fields ? fields.snoozedUntil : incident.snoozedUntil ?? null;
    const changed = this.db
      .prepare('UPDATE incidents SET state = ?, snoozed_until = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?')
      .run(to, snooze ?? null, now, incident.id, incident.version).changes;
    if (changed !== 1) throw new IncidentConflict(`incident ${incident.id} was changed by someone else a moment ago; look at the card again`);
    return this.get(incident.id)!;
  }

  acknowledge(id: number, actor: Person): IncidentRow {
    return this.db.transaction(() => {
      const i = this.require(id);
      if (i.state === 'acknowledged') throw new IncidentConflict(`incident ${id} is already acknowledged (${this.byLine(id)})`);
      if (i.state === 'resolved') throw new IncidentConflict(`incident ${id} is resolved already`);
      const next = this.transition(i, 'acknowledged');
      this.record(id, actor, 'acknowledged');
      return next;
    })();
  }

  escalate(id: number, actor: Person, target: string, reason: string): IncidentRow {
    return this.db.transaction(() => {
      const i = this.require(id);
      if (i.state === 'resolved') throw new IncidentConflict(`incident ${id} is resolved already`);
      const next = this.transition(i, 'escalated');
      this.db.prepare('INSERT INTO incident_escalations VALUES (?, ?, ?)').run(id, target, this.clock());
      this.record(id, actor, 'escalated', reason);
      return next;
    })();
  }

  resolve(id: number, actor: Person, message: string): IncidentRow {
    return this.db.transaction(() => {
      const i = this.require(id);
      if (i.state === 'resolved') throw new IncidentConflict(`incident ${id} is resolved already (${this.byLine(id)})`);
      const next = this.transition(i, 'resolved', { snoozedUntil: null });
      this.record(id, actor, 'resolved', message);
      return next;
    })();
  }

  snooze(id: number, actor: Person, durationMs: number): IncidentRow {
    return this.db.transaction(() => {
      const i = this.require(id);
      if (i.state === 'resolved') throw new IncidentConflict(`incident ${id} is resolved already`);
      const until = this.clock() + durationMs;
      const next = this.transition(i, i.state, { snoozedUntil: until });
      this.record(id, actor, 'snoozed', new Date(until).toISOString());
      return next;
    })();
  }

  /** The problem came back after the incident was resolved: open it again. */
  reopen(id: number, why: string): IncidentRow {
    const i = this.require(id);
    const next = this.transition(i, 'open', { snoozedUntil: null });
    this.record(id, undefined, 'reopened', why);
    return next;
  }

  /** Records an affected user's answer; their last answer counts. */
  giveFeedback(id: number, userId: string, name: string, helped: boolean): void {
    this.db.transaction(() => {
      this.require(id);
      this.db
        .prepare('INSERT INTO incident_feedback VALUES (?, ?, ?, ?) ON CONFLICT(incident_id, user_id) DO UPDATE SET helped = excluded.helped, at = excluded.at')
        .run(id, userId, helped ? 1 : 0, this.clock());
      this.record(id, { userId, displayName: name }, 'feedback', helped ? 'this helped' : 'still not working');
    })();
  }

  /** True while supervisors and channels should not get new notices (acknowledged, snoozed, resolved). */
  quiet(incident: IncidentRow, now = this.clock()): boolean {
    return incident.state === 'acknowledged' || incident.state === 'resolved' || (incident.snoozedUntil !== undefined && incident.snoozedUntil > now);
  }

  byLine(id: number): string {
    const last = this.lastChange(id);
    return last ? `by ${last.actorName}` : 'earlier';
  }

  private require(id: number): IncidentRow {
    const i = this.get(id);
    if (!i) throw new IncidentConflict(`there is no incident ${id}`);
    return i;
  }
}

/** The people who may act on incidents: supervisors and support. */
export function mayAct(person: Person | undefined): person is Person {
  return person?.role === 'supervisor' || person?.role === 'support';
}

/** Durations people type for snooze: 30m, 1h, 2d. */
export function parseSnooze(text: string): number | undefined {
  const m = /^(\d{1,3})\s*(m|min|minutes?|h|hours?|d|days?)$/i.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase()[0];
  const ms = unit === 'm' ? n * 60_000 : unit === 'h' ? n * 3_600_000 : n * 86_400_000;
  return ms > 0 && ms <= 30 * 86_400_000 ? ms : undefined;
}

export type { UserDirectory };
