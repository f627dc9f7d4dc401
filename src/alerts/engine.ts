import { CardRenderer } from '../cards/render-card';
import { Clock } from '../clock';
import { UserDirectory } from '../directory/user-directory';
import { LogEvent } from '../logs/log-event';
import { LogStore, StoreUnavailableError, Hit } from '../logs/log-store';
import { Logger } from '../logger';
import { LogQuery, SortKey } from '../query/log-query';
import { AlertState, ALL_RULES, IncidentRow, KeyRecord } from './alert-state';
import { eventSummary, workaroundCardData, formatTime } from './compose';
import { Notification, NotificationSink, Recipient } from './notifications';
import { IncidentStore } from './incidents';
import { IncidentCards } from './incident-cards';
import { Rule } from './rule';
import { KeyState, Match, RULE_TYPES, RuleEvent } from './rule-types';

export interface AlertEngineOptions {
  /** How often every rule runs. Default 5 s. */
  intervalMs?: number;
  /** Events that arrive late are still found when their time is within this much before the checkpoint. Default 2 min. */
  lookbackMs?: number;
  /** Where a rule with no checkpoint starts: default now (no alerts about the past). */
  startAt?: number;
  /** Zone for times on cards. */
  timeZone: string;
  /** Events fetched per page of a run. Default 1000. */
  pageSize?: number;
  /** Longest wait between runs while the log store is down (back-off doubles up to this). Default 60 s. */
  maxBackoffMs?: number;
}

export interface RuleRunReport {
  ruleId: string;
  events: number;
  matches: number;
  notifications: number;
  suppressed: number;
}

export interface RunReport {
  at: number;
  rules: RuleRunReport[];
  /** The log store could not be read: checkpoints kept, the run will catch up. */
  delayed?: string;
}

export interface AlertEngineDeps {
  store: LogStore;
  rules: Rule[];
  directory: UserDirectory;
  state: AlertState;
  outbox: NotificationSink;
  incidents: IncidentStore;
  incidentCards: IncidentCards;
  cards: CardRenderer;
  clock: Clock;
  logger: Logger;
  options: AlertEngineOptions;
  /** Called after notifications were enqueued (the dispatcher wakes up). */
  onEnqueued?: () => void;
}

/**
 * Runs every enabled rule over the events since its checkpoint (with a look-back for late events),
 * feeds the new ones to the rule's type, and turns matches into notifications: the workaround for
 * the affected user (once per realert period), the incident card for the user's supervisor and for
 * subscribed channels. Checkpoint, per-key state, incident and outbox entries commit in one
 * transaction, so a restart resumes with no gap and no double counting.
 */
export class AlertEngine {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RunReport> | undefined;
  private failures = 0;
  private wake: (() => void) | undefined;
  private stopped = true;

  constructor(private readonly deps: AlertEngineDeps) {
    for (const rule of deps.rules) if (!RULE_TYPES[rule.type.name]) throw new Error(`rule ${rule.id}: unknown type ${rule.type.name}`);
  }

  get rules(): Rule[] {
    return this.deps.rules;
  }

  /** One run of every enabled rule up to `now` (the clock by default). Runs never overlap. */
  async runOnce(now = this.deps.clock()): Promise<RunReport> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.run(now);
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  private async run(now: number): Promise<RunReport> {
    const report: RunReport = { at: now, rules: [] };
    for (const rule of this.deps.rules) {
      if (!rule.enabled) continue;
      try {
        report.rules.push(await this.runRule(rule, now));
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        report.delayed = err.message;
        break;
      }
    }
    this.systemNotice(report, now);
    return report;
  }

  private async runRule(rule: Rule, now: number): Promise<RuleRunReport> {
    const { state, options } = this.deps;
    const lookback = options.lookbackMs ?? 120_000;
    const checkpoint = state.checkpoint(rule.id) ?? options.startAt ?? now;
    const from = checkpoint - lookback;
    const hits = await this.fetch(rule, from, now);
    const seen = state.seen(rule.id, hits.map((h) => h.source));
    const fresh = hits.filter((h) => !seen.has(h.source));
    const events: RuleEvent[] = [];
    const byKey = new Map<string, Hit>();
    for (const h of fresh) {
      const key = (h as unknown as Record<string, unknown>)[rule.key];
      if (key === undefined || key === null || key === '') continue;
      events.push({ source: h.source, ts: Date.parse(h['@timestamp']), key: String(key) });
      byKey.set(h.source, h);
    }
    const keys = state.keys(rule.id);
    const typeState: Record<string, KeyState> = {};
    for (const [k, r] of keys) if (r.state) typeState[k] = r.state;
    const result = RULE_TYPES[rule.type.name].evaluate(rule.type, typeState, events);

    const notifications: Notification[] = [];
    let suppressed = 0;
    state.transaction(() => {
      let incident: IncidentRow | undefined;
      for (const match of result.matches) {
        const record: KeyRecord = keys.get(match.key) ?? {};
        if (record.lastNotified !== undefined && match.trigger.ts - record.lastNotified < rule.realertMs) {
          suppressed++;
          continue;
        }
        record.lastNotified = match.trigger.ts;
        keys.set(match.key, record);
        incident ??= this.incidentFor(rule, match, now, notifications);
        notifications.push(...this.notify(rule, match, incident, byKey, now));
      }
      for (const [k, r] of keys) {
        const s = result.state[k];
        if (s) r.state = s;
        else delete r.state;
        // Forget keys that are quiet for longer than realert: nothing left to throttle.
        if (!r.state && r.lastNotified !== undefined && now - r.lastNotified > rule.realertMs && (events.at(-1)?.ts ?? now) - r.lastNotified > rule.realertMs) keys.delete(k);
      }
      for (const [k, s] of Object.entries(result.state)) if (!keys.has(k)) keys.set(k, { state: s });
      state.saveKeys(rule.id, keys);
      state.markSeen(rule.id, fresh.map((h) => ({ source: h.source, ts: Date.parse(h['@timestamp']) })), from);
      state.setCheckpoint(rule.id, now, now);
      if (notifications.length) this.deps.outbox.enqueue(notifications);
      // Copies already sent show the new counts and users.
      if (incident) this.deps.incidentCards.sync(incident.id);
    });
    if (notifications.length) this.deps.onEnqueued?.();
    return { ruleId: rule.id, events: events.length, matches: result.matches.length, notifications: notifications.length, suppressed };
  }

  /** Every matching event in [from, to), oldest first, page by page. */
  private async fetch(rule: Rule, from: number, to: number): Promise<Hit[]> {
    const out: Hit[] = [];
    const pageSize = this.deps.options.pageSize ?? 1000;
    let after: SortKey | undefined;
    for (;;) {
      const query: LogQuery = {
        filters: rule.filters,
        time: { gte: new Date(from).toISOString(), lt: new Date(to).toISOString() },
        shape: { kind: 'list', limit: pageSize, order: 'asc', ...(after ? { after } : {}) },
      };
      const page = await this.deps.store.search(query);
      out.push(...page.hits);
      if (page.hits.length < pageSize) return out;
      const last = page.hits[page.hits.length - 1]!;
      after = [Date.parse(last['@timestamp']), last['log.file.path'], last['log.file.line']];
    }
  }

  /**
   * The incident a match belongs to: the rule's unresolved one; the last resolved one, reopened, if
   * the problem is back (support is told); or a new one.
   */
  private incidentFor(rule: Rule, match: Match, now: number, notifications: Notification[]): IncidentRow {
    const { state, incidents } = this.deps;
    const open = state.openIncident(rule.id);
    if (open) return open;
    const latest = state.latestIncident(rule.id);
    if (latest && latest.state === 'resolved') {
      const reopened = incidents.reopen(latest.id, `${rule.key} ${match.key} hit the problem again`);
      const who = rule.key === 'user.id' ? `user ${match.key}` : `${rule.key} ${match.key}`;
      const card = this.deps.cards.render('notice', {
        title: `Incident ${latest.id} reopened: ${rule.id}`,
        text: `It was resolved, but ${who} has hit the problem again (${formatTime(match.trigger.ts, this.deps.options.timeZone, true)}). The incident is open again.`,
        style: 'attention',
      }) as unknown as Record<string, unknown>;
      for (const conversationId of this.deps.incidentCards.supportChannels()) {
        notifications.push({
          idempotencyKey: `reopened:${latest.id}:${match.trigger.source}:${conversationId}`,
          ruleId: rule.id,
          incidentId: latest.id,
          recipient: { role: 'channel', conversationId },
          card,
          events: [match.trigger.source],
          createdAt: now,
        });
      }
      return reopened;
    }
    const created = state.openNewIncident(rule.id, match.events[0]!.ts, now);
    incidents.record(created.id, undefined, 'opened');
    return created;
  }

  /** The notifications one match gives: the affected user, their supervisor, subscribed channels. */
  private notify(rule: Rule, match: Match, incident: IncidentRow, bySource: Map<string, Hit>, now: number): Notification[] {
    const { state, directory, cards, options, incidents, incidentCards } = this.deps;
    const zone = options.timeZone;
    const trigger = bySource.get(match.trigger.source) ?? (bySource.get(match.events[0]!.source) as LogEvent);
    const events = match.events.map((e) => e.source);
    const out: Notification[] = [];
    const userId = rule.key === 'user.id' ? match.key : undefined;
    const person = userId ? directory.byUserId(userId) : undefined;
    const newToIncident = userId ? state.addToIncident(incident.id, userId, match.events, now, eventSummary(trigger, zone)) : false;
    const base = { ruleId: rule.id, incidentId: incident.id, events, createdAt: now };

    if (rule.recipients.affected && userId) {
      const recipient: Recipient = { role: 'affected', userId, ...(person ? { aadObjectId: person.aadObjectId, name: person.displayName } : {}) };
      const data = workaroundCardData(rule, trigger, match.events.length, zone, incident.id);
      if (data.feedback) data.feedback = { ...data.feedback, sig: incidents.sign(incident.id, `feedback:${userId}`) };
      out.push({
        ...base,
        idempotencyKey: `workaround:${rule.id}:${userId}:${match.trigger.source}`,
        recipient,
        card: cards.render('workaround', data) as unknown as Record<string, unknown>,
      });
    }
    // Acknowledged or snoozed: supervisors and channels are not told again (their copies update).
    if (!newToIncident || incidents.quiet(incident, now)) return out;
    const current = state.incident(incident.id)!;
    const supervisor = userId ? directory.supervisorOf(userId) : undefined;
    if (rule.recipients.supervisor && supervisor && userId) {
      const n = incidentCards.notification(
        current,
        { role: 'supervisor', userId: supervisor.userId, aadObjectId: supervisor.aadObjectId, name: supervisor.displayName },
        `incident:${incident.id}:supervisor:${supervisor.userId}:${userId}`,
        events,
      );
      if (n) out.push(n);
    }
    if (rule.recipients.channel && incident.state === 'open') {
      for (const conversationId of incidentCards.channels(rule.id)) {
        const n = incidentCards.notification(current, { role: 'channel', conversationId }, `incident:${incident.id}:channel:${conversationId}:${userId ?? match.key}`, events);
        if (n) out.push(n);
      }
    }
    return out;
  }

  /** Tells the support channel once when alerting is delayed, and once when it has caught up. */
  private systemNotice(report: RunReport, now: number): void {
    const { state, cards, logger } = this.deps;
    const before = state.systemState('log-store');
    const after = report.delayed ? 'delayed' : 'ok';
    if (!state.setSystemState('log-store', after, now)) return;
    // The first run with a healthy store is not news.
    if (after === 'ok' && before === undefined) return;
    if (report.delayed) logger.warn('alerting delayed: log store unavailable', { detail: report.delayed });
    else logger.info('alerting caught up: log store available again');
    const zone = this.deps.options.timeZone;
    const title = report.delayed ? 'Alerting is delayed' : 'Alerting has caught up';
    const text = report.delayed
      ? `The log store cannot be read since ${formatTime(now, zone, true)}. No rule has lost its place: when the store is back, every rule catches up and nothing is skipped or sent twice.`
      : `The log store is back (${formatTime(now, zone, true)}). Every rule has caught up from where it stopped.`;
    const card = cards.render('notice', { title, text, style: report.delayed ? 'warning' : 'good' }) as unknown as Record<string, unknown>;
    const notices: Notification[] = state.subscribers(ALL_RULES).map((conversationId) => ({
      idempotencyKey: `system:log-store:${after}:${now}:${conversationId}`,
      ruleId: ALL_RULES,
      recipient: { role: 'channel', conversationId },
      card,
      events: [],
      createdAt: now,
    }));
    if (notices.length) {
      this.deps.outbox.enqueue(notices);
      this.deps.onEnqueued?.();
    }
  }

  /** Runs every `intervalMs`; while the store is down the interval doubles up to maxBackoffMs. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const base = this.deps.options.intervalMs ?? 5000;
    const loop = async () => {
      if (this.stopped) return;
      let delay = base;
      try {
        const report = await this.runOnce();
        if (report.delayed) {
          this.failures++;
          delay = Math.min(base * 2 ** this.failures, this.deps.options.maxBackoffMs ?? 60_000);
        } else {
          this.failures = 0;
        }
      } catch (err) {
        this.deps.logger.error('alert run failed', { error: err as Error });
      }
      if (this.stopped) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, delay);
      });
      this.wake = undefined;
      void loop();
    };
    void loop();
  }

  /** Runs now instead of at the next tick (new events were just ingested). */
  nudge(): void {
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    if (this.running) await this.running.catch(() => undefined);
  }
}
