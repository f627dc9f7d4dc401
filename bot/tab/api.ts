import { IncidentRow, IncidentState } from '../../src/alerts/alert-state';
import { mayAct } from '../../src/alerts/incidents';
import { Rule } from '../../src/alerts/rule';
import { isValidZone } from '../../src/logs/timestamps';
import { AlertRuntime } from '../alerts-runtime';
import { BotServices, roleName } from '../conversation';
import { acknowledge, ActionOutcome, Actor, resolve } from '../incident-actions';
import { askAs } from '../commands/question';
import { TabUser } from './auth';
import { errorTrend, TrendBy } from './trend';

/**
 * The dashboard's JSON API, as plain functions of (who, input) → (status, body): the routes
 * (routes.ts) do HTTP and authentication, these do validation, authorization and the work.
 * Lists are paginated as `{ items, total, next }` (`next`: the URL of the following page, or null).
 * Acknowledge and resolve call the very functions the cards and chat commands use
 * (bot/incident-actions.ts), so the cards, the outbox and the audit trail see the same change.
 */
/** An HTTP status and the JSON body to answer with. */
export interface ApiResponse {
  status: number;
  body: unknown;
}

/** What a handler is given. `query` is restify's parsed query string (repeated keys are arrays). */
export interface ApiRequest {
  user: TabUser;
  query: Record<string, unknown>;
  params: Record<string, string | undefined>;
  body: unknown;
}

/** What the API works with. */
export interface ApiDeps {
  services: BotServices;
  /** The release to mark on the trend (ISO 8601), when configured. */
  releaseAt?: string;
}

/** Input that cannot be used: answered 400 with the message. */
export class BadRequest extends Error {}

const json = (status: number, body: unknown): ApiResponse => ({ status, body });
const fail = (status: number, error: string, message: string): ApiResponse => json(status, { error, message });

const ACTIVE: IncidentState[] = ['open', 'acknowledged', 'escalated'];
const STATES: IncidentState[] = ['open', 'acknowledged', 'escalated', 'resolved'];
/** Longest resolution message accepted before the action itself checks it (it allows 500 after trimming). */
const MAX_MESSAGE_INPUT = 2000;
const MAX_QUESTION = 1000;
const MAX_TREND_HOURS = 14 * 24;

const iso = (ms: number) => new Date(ms).toISOString();

/** A single query value: absent, or one string (a repeated key is refused, not silently narrowed). */
function one(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BadRequest(`give ${name} once`);
  return v;
}

function integer(query: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const text = one(query, name);
  if (text === undefined || text === '') return fallback;
  if (!/^\d{1,9}$/.test(text) || Number(text) < min || Number(text) > max) throw new BadRequest(`${name} must be a whole number from ${min} to ${max}`);
  return Number(text);
}

/** An incident id from the path: 1 to 999999999, digits only. */
export function incidentIdParam(text: string | undefined): number {
  if (!text || !/^[1-9]\d{0,8}$/.test(text)) throw new BadRequest('an incident id is a whole number from 1 to 999999999');
  return Number(text);
}

function page(query: Record<string, unknown>, defaultLimit: number): { limit: number; offset: number } {
  return { limit: integer(query, 'limit', defaultLimit, 1, 100), offset: integer(query, 'offset', 0, 0, 1_000_000) };
}

/** The URL of the next page, keeping every other parameter. */
function nextPage(path: string, params: Record<string, string>, limit: number, offset: number, total: number): string | null {
  if (offset + limit >= total) return null;
  return `${path}?${new URLSearchParams({ ...params, limit: String(limit), offset: String(offset + limit) }).toString()}`;
}

function alertsOf(services: BotServices): AlertRuntime | undefined {
  return services.alerts;
}

const noAlerts = () => fail(503, 'unavailable', 'Alerting is not running in this bot, so there are no incidents or rules to show.');
const staffOnly = () =>
  fail(403, 'forbidden', 'Incidents, rules and trends are for supervisors and support. You can ask about your own problems in the search box.');

/** A card title without its `{placeholders}` (as the chat's incident list shows it). */
function titleOf(rule: Rule | undefined, ruleId: string): string {
  return (rule?.card.title ?? ruleId).replace(/\{[a-z._]+\}/g, '').replace(/\s+/g, ' ').trim();
}

/** The actor for the shared incident actions (the same ones the cards call): the signed-in person. */
export function tabTurn(services: BotServices, user: TabUser): Actor {
  return {
    sender: { teamsId: user.aadObjectId, aadObjectId: user.aadObjectId, name: user.person.displayName, person: user.person },
    services,
  };
}

/** The incident as the list shows it: times ISO 8601 UTC, what the reader may do with it. */
function summary(alerts: AlertRuntime, incident: IncidentRow, user: TabUser, now: number) {
  const rule = alerts.rules().find((r) => r.id === incident.ruleId);
  const last = alerts.incidents.lastChange(incident.id);
  const feedback = alerts.incidents.feedback(incident.id);
  const helped = feedback.filter((f) => f.helped).length;
  const staff = mayAct(user.person);
  return {
    id: incident.id,
    ruleId: incident.ruleId,
    title: titleOf(rule, incident.ruleId),
    state: incident.state,
    ...(last ? { stateBy: { name: last.actorName, at: iso(last.at), action: last.action, ...(last.detail && last.action !== 'snoozed' ? { note: last.detail } : {}) } } : {}),
    ...(incident.snoozedUntil && incident.snoozedUntil > now ? { snoozedUntil: iso(incident.snoozedUntil) } : {}),
    openedAt: iso(incident.openedAt),
    firstSeen: iso(incident.firstSeen),
    lastSeen: iso(incident.lastSeen),
    events: incident.events,
    affectedUsers: alerts.state.incidentUsers(incident.id).length,
    feedback: { helped, notWorking: feedback.length - helped },
    actions: {
      acknowledge: staff && (incident.state === 'open' || incident.state === 'escalated'),
      resolve: staff && incident.state !== 'resolved',
    },
  };
}

/** The API's handlers; each checks who may use it. */
export function tabApi(deps: ApiDeps) {
  const { services } = deps;
  const { engine } = services;
  const zone = engine.config.timeZone;

  const staffAlerts = (user: TabUser): AlertRuntime | ApiResponse => {
    if (!mayAct(user.person)) return staffOnly();
    return alertsOf(services) ?? noAlerts();
  };

  const act = (req: ApiRequest, verb: 'acknowledge' | 'resolve'): ApiResponse => {
    const alerts = alertsOf(services);
    if (!alerts) return noAlerts();
    const id = incidentIdParam(req.params.id);
    const turn = tabTurn(services, req.user);
    let message = '';
    // Someone who may not act is refused by the action itself (its role check comes first) and
    // learns nothing else: not whether the incident exists, not what is wrong with the message.
    if (mayAct(req.user.person)) {
      if (!alerts.incidents.get(id)) return fail(404, 'not-found', `There is no incident ${id}.`);
      if (verb === 'resolve') {
        const body = req.body;
        const m = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>).message : undefined;
        if (typeof m !== 'string') throw new BadRequest('send {"message": "…"}: what to tell the affected users');
        if (m.length > MAX_MESSAGE_INPUT) throw new BadRequest('the message is too long (at most 500 characters)');
        message = m;
      }
    }
    const outcome: ActionOutcome = verb === 'acknowledge' ? acknowledge(turn, id) : resolve(turn, id, message);
    if (!outcome.ok) {
      if (outcome.status === 'forbidden') {
        services.logger.warn('dashboard action refused: role', { from: req.user.aadObjectId, role: req.user.person.role, verb, incidentId: id });
        return fail(403, 'forbidden', outcome.text);
      }
      return outcome.status === 'bad' ? fail(400, 'bad-request', outcome.text) : fail(409, 'conflict', outcome.text);
    }
    services.logger.info('dashboard action', { from: req.user.aadObjectId, verb, incidentId: id });
    return json(200, { ok: true, text: outcome.text, incident: summary(alerts, alerts.incidents.get(id)!, req.user, engine.clock()) });
  };

  return {
    /** Who is signed in, and what the page needs to know to show them the right things. */
    me(req: ApiRequest): ApiResponse {
      const p = req.user.person;
      return json(200, {
        userId: p.userId,
        name: p.displayName,
        role: p.role,
        roleName: roleName(p.role),
        staff: mayAct(p),
        via: req.user.via,
        timeZone: zone,
        now: iso(engine.clock()),
        alerts: !!services.alerts,
        ...(deps.releaseAt ? { releaseAt: deps.releaseAt } : {}),
      });
    },

    /** `?state=active|all|<state>[,<state>]` (default active), `?limit=` 1–100 (default 20), `?offset=`. */
    incidents(req: ApiRequest): ApiResponse {
      const alerts = staffAlerts(req.user);
      if ('status' in alerts) return alerts;
      const stateText = one(req.query, 'state') ?? 'active';
      let states: IncidentState[];
      if (stateText === 'active') states = ACTIVE;
      else if (stateText === 'all') states = STATES;
      else {
        const wanted = stateText.split(',');
        if (!wanted.every((s): s is IncidentState => (STATES as string[]).includes(s))) throw new BadRequest(`state must be active, all, or some of ${STATES.join(', ')}`);
        states = wanted;
      }
      const { limit, offset } = page(req.query, 20);
      const all = alerts.state.incidents({ states });
      const now = engine.clock();
      return json(200, {
        items: all.slice(offset, offset + limit).map((i) => summary(alerts, i, req.user, now)),
        total: all.length,
        next: nextPage('/tab/api/incidents', { state: stateText }, limit, offset, all.length),
      });
    },

    /** One incident with its affected users, audit trail and feedback. */
    incident(req: ApiRequest): ApiResponse {
      const alerts = staffAlerts(req.user);
      if ('status' in alerts) return alerts;
      const id = incidentIdParam(req.params.id);
      const incident = alerts.incidents.get(id);
      if (!incident) return fail(404, 'not-found', `There is no incident ${id}.`);
      const rule = alerts.rules().find((r) => r.id === incident.ruleId);
      const feedback = alerts.incidents.feedback(id);
      const helpedBy = new Map(feedback.map((f) => [f.userId, f.helped]));
      const delivery = new Map<string, string>();
      for (const item of alerts.outbox.items({ incidentId: id, role: 'affected', limit: 10_000 })) {
        const userId = item.notification.recipient.userId;
        if (!userId || item.notification.recipient.updateActivityId || !item.notification.idempotencyKey.startsWith('workaround:')) continue;
        const text = item.status === 'sent' ? 'workaround sent' : item.status === 'unreachable' ? `not reachable: ${item.lastError ?? 'unknown'}` : item.status === 'failed' ? 'could not be sent' : 'sending';
        if (delivery.get(userId) !== 'workaround sent') delivery.set(userId, text);
      }
      const directory = engine.directory;
      return json(200, {
        ...summary(alerts, incident, req.user, engine.clock()),
        description: rule?.description ?? '',
        users: alerts.state.incidentUsers(id).map((u) => {
          const person = directory.byUserId(u.userId);
          const helped = helpedBy.get(u.userId);
          return {
            userId: u.userId,
            ...(person ? { name: person.displayName, login: person.login } : {}),
            firstSeen: iso(u.firstSeen),
            lastSeen: iso(u.lastSeen),
            events: u.events,
            summary: u.summary,
            feedback: helped === undefined ? null : helped ? 'helped' : 'not-working',
            delivery: delivery.get(u.userId) ?? 'not sent',
          };
        }),
        audit: alerts.incidents.audit(id).map((e) => ({ at: iso(e.at), actor: e.actorName, action: e.action, ...(e.detail ? { detail: e.detail } : {}) })),
        feedbackGiven: feedback.map((f) => ({ userId: f.userId, name: directory.byUserId(f.userId)?.displayName ?? `user ${f.userId}`, helped: f.helped, at: iso(f.at) })),
      });
    },

    acknowledge: (req: ApiRequest): ApiResponse => act(req, 'acknowledge'),
    resolve: (req: ApiRequest): ApiResponse => act(req, 'resolve'),

    /** Every rule: on or off, its last run, what it matched, what was sent, who could not be reached. */
    rules(req: ApiRequest): ApiResponse {
      const alerts = staffAlerts(req.user);
      if ('status' in alerts) return alerts;
      const { limit, offset } = page(req.query, 50);
      const rules = alerts.rules();
      const items = rules.slice(offset, offset + limit).map((rule) => {
        const incidents = alerts.state.incidents({ ruleId: rule.id });
        const users = new Set<string>();
        for (const i of incidents) for (const u of alerts.state.incidentUsers(i.id)) users.add(u.userId);
        const sent = alerts.outbox.sentByRule(rule.id);
        const unreachable = new Map<string, { userId: string; name: string; reason: string }>();
        for (const item of alerts.outbox.items({ ruleId: rule.id, status: 'unreachable', limit: 1_000_000 })) {
          const r = item.notification.recipient;
          if (r.role === 'channel' || !r.userId) continue;
          unreachable.set(r.userId, { userId: r.userId, name: r.name ?? engine.directory.byUserId(r.userId)?.displayName ?? `user ${r.userId}`, reason: item.lastError ?? 'unreachable' });
        }
        const checkpoint = alerts.state.checkpoint(rule.id);
        return {
          id: rule.id,
          description: rule.description,
          enabled: rule.enabled,
          type: rule.type.name,
          // The engine checkpoints a rule at the time of each run: its checkpoint is its last run.
          lastRun: checkpoint === undefined ? null : iso(checkpoint),
          incidents: { active: incidents.filter((i) => i.state !== 'resolved').length, total: incidents.length },
          matchedUsers: users.size,
          matchedEvents: incidents.reduce((n, i) => n + i.events, 0),
          // New messages only: replacing a card already sent (an update) tells nobody anything new.
          notificationsSent: sent.messages,
          cardUpdates: sent.updates,
          unreachableUsers: [...unreachable.values()],
        };
      });
      return json(200, { items, total: rules.length, next: nextPage('/tab/api/rules', {}, limit, offset, rules.length) });
    },

    /** `?hours=` 1–336 (default 72), `?by=rule|dataset` (default rule). */
    async trend(req: ApiRequest): Promise<ApiResponse> {
      const alerts = staffAlerts(req.user);
      if ('status' in alerts) return alerts;
      const hours = integer(req.query, 'hours', 72, 1, MAX_TREND_HOURS);
      const by = one(req.query, 'by') ?? 'rule';
      if (by !== 'rule' && by !== 'dataset') throw new BadRequest('by must be rule or dataset');
      const trend = await errorTrend(engine, alerts.rules(), {
        by: by as TrendBy,
        hours,
        now: engine.clock(),
        timeZone: zone,
        ...(deps.releaseAt ? { releaseAt: deps.releaseAt } : {}),
      });
      return json(200, trend);
    },

    /**
     * `?q=` the question (1–1000 characters); `?offset=` a later page of a list; `?now=` the
     * instant the first page was read at; `?tz=` the reader's zone (default the configured one).
     */
    async ask(req: ApiRequest): Promise<ApiResponse> {
      const q = (one(req.query, 'q') ?? '').trim();
      if (!q) throw new BadRequest('ask a question with ?q=, e.g. "show errors for user 1087 today"');
      if (q.length > MAX_QUESTION) throw new BadRequest(`a question has at most ${MAX_QUESTION} characters`);
      const offset = integer(req.query, 'offset', 0, 0, 9000);
      const nowText = one(req.query, 'now');
      if (nowText !== undefined && (nowText.length > 40 || Number.isNaN(Date.parse(nowText)))) throw new BadRequest('now must be an ISO 8601 instant');
      const tz = one(req.query, 'tz');
      if (tz !== undefined && (tz.length > 64 || !isValidZone(tz))) throw new BadRequest('tz must be an IANA time zone such as Europe/Berlin');
      const now = nowText ? new Date(Date.parse(nowText)) : new Date(engine.clock());
      const timeZone = tz ?? zone;
      const answer = await askAs(services, req.user.person, q, { timeZone, now, offset });
      if (answer.outcome === 'refused') return json(403, { error: 'forbidden', outcome: answer.outcome, ...answer.notice, message: answer.notice.text });
      if (answer.outcome === 'unavailable') return json(503, { error: 'unavailable', outcome: answer.outcome, ...answer.notice, message: answer.notice.text });
      if (answer.outcome !== 'answered') return json(200, { ...answer, timeZone, now: now.toISOString() });
      const more = answer.card.name === 'answer-list' ? answer.card.data.more : undefined;
      const next = more ? `/tab/api/ask?${new URLSearchParams({ q, offset: String(more.offset), now: more.now, tz: more.timeZone }).toString()}` : null;
      return json(200, { ...answer, timeZone, now: now.toISOString(), next });
    },
  };
}

/** The handlers, by name. */
export type TabApi = ReturnType<typeof tabApi>;
