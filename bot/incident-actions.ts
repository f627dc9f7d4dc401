import { AdaptiveCardInvokeResponse } from 'botbuilder';
import { ALL_RULES } from '../src/alerts/alert-state';
import { formatTime } from '../src/alerts/compose';
import { IncidentConflict, mayAct, parseSnooze } from '../src/alerts/incidents';
import { Notification } from '../src/alerts/notifications';
import { answerCard } from '../src/cards/answer-cards';
import { Person } from '../src/directory/user-directory';
import { redactEvent } from '../src/logs/redact';
import { AlertRuntime } from './alerts-runtime';
import { Turn } from './conversation';
import { badRequest, CardVerbHandler } from './support-bot';

/**
 * What supervisors and support do with incidents, from a card button or a chat command: the same
 * checks and effects either way. Who may act comes from the sender's directory entry; card data is
 * untrusted (ids are checked, signatures verified); every change is in the incident's history.
 */
const MAX_TEXT = 500;

/** Who acts and with which services: a chat turn, a card click or the dashboard all give this. */
export type Actor = Pick<Turn, 'sender' | 'services'>;

export type ActionOutcome =
  | { ok: true; incidentId: number; text: string }
  | { ok: false; status: 'refused' | 'forbidden' | 'bad'; text: string };

function runtime(turn: Actor): AlertRuntime {
  const alerts = turn.services.alerts;
  if (!alerts) throw new Error('alerting is not running in this bot');
  return alerts;
}

const now = (turn: Actor) => turn.services.engine.clock();
const zone = (turn: Actor) => turn.services.engine.config.timeZone;

function refuseRole(verb: string): ActionOutcome {
  return { ok: false, status: 'forbidden', text: `Only supervisors and support can ${verb} incidents. If something is wrong for you, reply here and support will look at it.` };
}

function conflict(err: unknown): ActionOutcome {
  if (err instanceof IncidentConflict) return { ok: false, status: 'refused', text: `Nothing changed: ${err.message}.` };
  throw err;
}

/** Card copies and every channel told about a change: the outbox delivers, the cards stay true. */
function afterChange(turn: Actor, incidentId: number, extra: Notification[] = []): void {
  const alerts = runtime(turn);
  if (extra.length) alerts.outbox.enqueue(extra);
  alerts.incidentCards.sync(incidentId);
  alerts.dispatcher.nudge();
}

export function acknowledge(turn: Actor, incidentId: number): ActionOutcome {
  const actor = turn.sender.person;
  if (!mayAct(actor)) return refuseRole('acknowledge');
  try {
    runtime(turn).incidents.acknowledge(incidentId, actor);
  } catch (err) {
    return conflict(err);
  }
  afterChange(turn, incidentId);
  return { ok: true, incidentId, text: `Incident ${incidentId} acknowledged. Supervisors and channels get no new notices for it; affected users still get their workaround.` };
}

export function snooze(turn: Actor, incidentId: number, duration: string): ActionOutcome {
  const actor = turn.sender.person;
  if (!mayAct(actor)) return refuseRole('snooze');
  const ms = parseSnooze(duration);
  if (ms === undefined) return { ok: false, status: 'bad', text: `'${duration.slice(0, 20)}' is not a duration: write 30m, 1h or 1d (at most 30d).` };
  try {
    runtime(turn).incidents.snooze(incidentId, actor, ms);
  } catch (err) {
    return conflict(err);
  }
  afterChange(turn, incidentId);
  return { ok: true, incidentId, text: `Incident ${incidentId} snoozed until ${formatTime(now(turn) + ms, zone(turn), true)}.` };
}

export function escalate(turn: Actor, incidentId: number, target: string, reason: string): ActionOutcome {
  const actor = turn.sender.person;
  if (!mayAct(actor)) return refuseRole('escalate');
  const alerts = runtime(turn);
  const why = reason.trim();
  if (!why || why.length > MAX_TEXT) return { ok: false, status: 'bad', text: `Say why you escalate (1 to ${MAX_TEXT} characters).` };
  const choice = alerts.incidentCards.escalationChoices().find((c) => c.value === target);
  if (!choice) return { ok: false, status: 'bad', text: 'Choose where to escalate: the support channel or a support engineer.' };
  const incident = alerts.incidents.get(incidentId);
  if (!incident) return { ok: false, status: 'refused', text: `There is no incident ${incidentId}.` };
  let version: number;
  try {
    version = alerts.incidents.escalate(incidentId, actor, target, why).version;
  } catch (err) {
    return conflict(err);
  }
  const updated = alerts.incidents.get(incidentId)!;
  const notices: Notification[] = [];
  if (target === 'channel') {
    const channels = [...new Set([...alerts.state.subscribers(incident.ruleId), ...alerts.state.subscribers(ALL_RULES)])];
    for (const conversationId of channels) {
      const n = alerts.incidentCards.notification(updated, { role: 'channel', conversationId }, `escalated:${incidentId}:v${version}:${conversationId}`, []);
      if (n) notices.push(n);
    }
    if (!channels.length) return finishEscalation(turn, incidentId, notices, `Incident ${incidentId} escalated, but no channel is subscribed to it: subscribe the support channel with "subscribe all".`);
  } else {
    const person = turn.services.engine.directory.byUserId(target.slice('person:'.length));
    if (!person) return { ok: false, status: 'bad', text: 'That person is not in the directory any more.' };
    const n = alerts.incidentCards.notification(
      updated,
      { role: 'escalation', userId: person.userId, aadObjectId: person.aadObjectId, name: person.displayName },
      `escalated:${incidentId}:v${version}:person:${person.userId}`,
      [],
    );
    if (n) notices.push(n);
  }
  return finishEscalation(turn, incidentId, notices, `Incident ${incidentId} escalated to ${choice.title}.`);
}

function finishEscalation(turn: Actor, incidentId: number, notices: Notification[], text: string): ActionOutcome {
  afterChange(turn, incidentId, notices);
  return { ok: true, incidentId, text };
}

/** A workaround card as it was sent, now saying the problem is fixed (and asking nothing more). */
function resolvedCopy(card: Record<string, unknown>, text: string): Record<string, unknown> {
  const body = ((card.body as Record<string, unknown>[]) ?? []).filter((el) => el.id !== 'feedback' && el.id !== 'status');
  const banner = { type: 'Container', id: 'status', style: 'good', bleed: true, items: [{ type: 'RichTextBlock', inlines: [{ type: 'TextRun', text, weight: 'Bolder' }] }] };
  return { ...card, body: [banner, ...body] };
}

export function resolve(turn: Actor, incidentId: number, message: string): ActionOutcome {
  const actor = turn.sender.person;
  if (!mayAct(actor)) return refuseRole('resolve');
  const text = message.trim();
  if (!text || text.length > MAX_TEXT) return { ok: false, status: 'bad', text: `Tell the affected users what changed (1 to ${MAX_TEXT} characters), e.g. "fixed in 2.4.1".` };
  const alerts = runtime(turn);
  const incident = alerts.incidents.get(incidentId);
  if (!incident) return { ok: false, status: 'refused', text: `There is no incident ${incidentId}.` };
  const rule = alerts.rules().find((r) => r.id === incident.ruleId);
  try {
    alerts.incidents.resolve(incidentId, actor, text);
  } catch (err) {
    return conflict(err);
  }
  // A recurrence after the fix is news again: the rule may tell those users anew.
  alerts.state.clearNotified(incident.ruleId);
  const by = `Resolved by ${actor.displayName}, ${formatTime(now(turn), zone(turn))}`;
  const title = (rule?.card.title ?? incident.ruleId).replace(/\{[a-z._]+\}/g, '').trim();
  const notices: Notification[] = [];
  for (const u of alerts.state.incidentUsers(incidentId)) {
    const person = turn.services.engine.directory.byUserId(u.userId);
    notices.push({
      idempotencyKey: `fixed:${incidentId}:${u.userId}`,
      ruleId: incident.ruleId,
      incidentId,
      recipient: { role: 'affected', userId: u.userId, ...(person ? { aadObjectId: person.aadObjectId, name: person.displayName } : {}) },
      card: turn.services.cards.render('fixed', { title, message: text, by }) as unknown as Record<string, unknown>,
      events: [],
      createdAt: now(turn),
    });
  }
  // Their earlier workaround cards say it is resolved.
  for (const item of alerts.outbox.items({ incidentId, role: 'affected', status: 'sent', limit: 10_000 })) {
    const n = item.notification;
    if (n.recipient.updateActivityId || !item.conversationId || !item.activityId || !n.idempotencyKey.startsWith('workaround:')) continue;
    notices.push({
      ...n,
      idempotencyKey: `resolved-copy:${item.id}`,
      recipient: { ...n.recipient, conversationId: item.conversationId, updateActivityId: item.activityId },
      card: resolvedCopy(n.card, `Resolved: ${text}`),
      createdAt: now(turn),
    });
  }
  afterChange(turn, incidentId, notices);
  const users = alerts.state.incidentUsers(incidentId).length;
  return { ok: true, incidentId, text: `Incident ${incidentId} resolved. ${users} affected user${users === 1 ? '' : 's'} will be told: "${text}".` };
}

/** "This helped" / "Still not working" from the affected user's own workaround card. */
export async function feedback(turn: Actor, incidentId: number, helped: boolean): Promise<ActionOutcome> {
  const person = turn.sender.person;
  const alerts = runtime(turn);
  const users = alerts.state.incidentUsers(incidentId);
  if (!person || !users.some((u) => u.userId === person.userId)) {
    return { ok: false, status: 'forbidden', text: 'Only the people this problem affected can say whether the workaround helped.' };
  }
  alerts.incidents.giveFeedback(incidentId, person.userId, person.displayName, helped);
  const notices: Notification[] = [];
  if (!helped) {
    const incident = alerts.incidents.get(incidentId)!;
    const errors = await recentErrors(turn, person);
    const intro = turn.services.cards.render('notice', {
      title: `Still not working: ${person.displayName} (${person.userId})`,
      text: `${person.displayName} says the workaround for incident ${incidentId} (${incident.ruleId}) did not help. Their recent problems follow.`,
      style: 'attention',
    }) as unknown as Record<string, unknown>;
    for (const conversationId of alerts.incidentCards.supportChannels()) {
      const at = now(turn);
      notices.push({ idempotencyKey: `not-working:${incidentId}:${person.userId}:${at}:${conversationId}`, ruleId: incident.ruleId, incidentId, recipient: { role: 'channel', conversationId }, card: intro, events: [], createdAt: at });
      if (errors) notices.push({ idempotencyKey: `not-working-errors:${incidentId}:${person.userId}:${at}:${conversationId}`, ruleId: incident.ruleId, incidentId, recipient: { role: 'channel', conversationId }, card: errors, events: [], createdAt: at });
    }
  }
  afterChange(turn, incidentId, notices);
  return {
    ok: true,
    incidentId,
    text: helped ? 'Thanks, glad it helped.' : 'Thanks for telling us. Support has your recent errors and will look at it.',
  };
}

/** The user's problems of the last day, as the answer card support would get for "problems for user X". */
async function recentErrors(turn: Actor, person: Person): Promise<Record<string, unknown> | undefined> {
  const engine = turn.services.engine;
  const at = new Date(engine.clock());
  const parsed = await engine.asker.parse(`problems for user ${person.userId} in the last 24 hours`, { now: at, timeZone: zone(turn), limit: 10 });
  if (!parsed.ok) return undefined;
  const answer = await engine.asker.run(parsed, { timeZone: zone(turn) });
  answer.hits = answer.hits.map(redactEvent);
  const card = answerCard(answer, { timeZone: zone(turn), now: at, offset: 0, directory: engine.directory });
  return turn.services.cards.render(card.name, card.data as never) as unknown as Record<string, unknown>;
}

/** The workaround card after feedback: the buttons gone, the thanks in their place. */
function answeredCopy(card: Record<string, unknown>, text: string): Record<string, unknown> {
  const body = ((card.body as Record<string, unknown>[]) ?? []).filter((el) => el.id !== 'feedback' && el.id !== 'feedback-given');
  const thanks = { type: 'RichTextBlock', id: 'feedback-given', spacing: 'Medium', inlines: [{ type: 'TextRun', text, isSubtle: true, italic: true }] };
  return { ...card, body: [...body, thanks] };
}

/** The Universal Action handlers for incident and workaround cards. */
export function incidentVerbs(): Record<string, CardVerbHandler> {
  const card = (turn: Turn, incidentId: number): AdaptiveCardInvokeResponse => {
    const alerts = runtime(turn);
    const actor = turn.sender.person;
    const view = alerts.incidentCards.view(incidentId, { actions: mayAct(actor), ...(actor?.role === 'supervisor' ? { supervisor: actor } : {}) });
    if (!view) return badRequest('That incident does not exist.');
    return { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: view as never };
  };
  const toast = (text: string): AdaptiveCardInvokeResponse => ({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: text as never });
  const checked = (turn: Turn, data: Record<string, unknown>, scope: string): number | undefined => {
    const id = data.incidentId;
    const n = typeof id === 'number' ? id : typeof id === 'string' && /^\d{1,9}$/.test(id) ? Number(id) : NaN;
    if (!Number.isInteger(n) || n < 1 || !runtime(turn).incidents.verify(n, scope, data.sig)) {
      turn.services.logger.warn('card action refused: forged or damaged incident data', { from: turn.sender.aadObjectId, scope });
      return undefined;
    }
    return n;
  };
  const respond = (turn: Turn, outcome: ActionOutcome): AdaptiveCardInvokeResponse => {
    if (!outcome.ok) {
      if (outcome.status === 'forbidden') turn.services.logger.warn('incident action refused: role', { from: turn.sender.aadObjectId, role: turn.sender.person?.role ?? 'unknown' });
      return toast(outcome.text);
    }
    return card(turn, outcome.incidentId);
  };
  const verbs: Record<string, CardVerbHandler> = {
    'incident.refresh': async (turn, data) => {
      const id = checked(turn, data, 'incident');
      return id === undefined ? badRequest('This card cannot be refreshed.') : card(turn, id);
    },
    'incident.ack': async (turn, data) => {
      const id = checked(turn, data, 'incident');
      return id === undefined ? badRequest('This card is not valid.') : respond(turn, acknowledge(turn, id));
    },
    'incident.snooze': async (turn, data) => {
      const id = checked(turn, data, 'incident');
      return id === undefined ? badRequest('This card is not valid.') : respond(turn, snooze(turn, id, String(data.duration ?? '')));
    },
    'incident.escalate': async (turn, data) => {
      const id = checked(turn, data, 'incident');
      return id === undefined ? badRequest('This card is not valid.') : respond(turn, escalate(turn, id, String(data.to ?? ''), String(data.reason ?? '')));
    },
    'incident.resolve': async (turn, data) => {
      const id = checked(turn, data, 'incident');
      return id === undefined ? badRequest('This card is not valid.') : respond(turn, resolve(turn, id, String(data.message ?? '')));
    },
  };
  for (const [verb, helped] of [['incident.helped', true], ['incident.not-working', false]] as const) {
    verbs[verb] = async (turn, data) => {
      const userId = turn.sender.person?.userId ?? '';
      const id = checked(turn, data, `feedback:${userId}`);
      if (id === undefined) return badRequest('This card is not valid.');
      const outcome = await feedback(turn, id, helped);
      if (!outcome.ok) return toast(outcome.text);
      // The card the user clicked, without the question and with the thanks.
      const sent = runtime(turn)
        .outbox.items({ incidentId: id, role: 'affected', status: 'sent', limit: 10_000 })
        .filter((i) => i.notification.recipient.userId === userId && i.notification.idempotencyKey.startsWith('workaround:'))
        .at(-1);
      if (!sent) return toast(outcome.text);
      return { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: answeredCopy(sent.notification.card, outcome.text) as never };
    };
  }
  return verbs;
}
