/**
 * Incidents from the cards and the chat, turn by turn (TestAdapter): every action, every role,
 * forged data; the "fixed" fan-out through the outbox; acknowledge suppressing repeat notices.
 * Alerting runs over the sample week with a recording notifier in place of Teams.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, cpSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Activity } from 'botbuilder';
import { ingestPaths } from '../../src/logs/ingest';
import { loadSourcesConfig } from '../../src/logs/sources';
import { projectPath } from '../../src/paths';
import { activity, BotHarness, botHarness, cardOf, cardTexts, exchange, PEOPLE, Who } from '../support/bot';

const CHANNEL = { id: '19:support@thread.tacv2', conversationType: 'channel', isGroup: true, name: 'Support', tenantId: 'tenant-1' };
const inChannel = (from: Who, text: string): Partial<Activity> =>
  activity(from, { type: 'message', text, conversation: CHANNEL as never, channelData: { team: { id: 'team-1' }, tenant: { id: 'tenant-1' } } });
const say = (from: Who, text: string) => activity(from, { type: 'message', text });
const invoke = (from: Who, verb: string, data: unknown) => activity(from, { type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb, data } } });
type Body = { statusCode: number; type: string; value: unknown };
const body = (r: Partial<Activity> | undefined) => (r!.value as { body: Body }).body;
const textOf = (card: unknown) => cardTexts(card).join('\n');

/** The data of a button on a card. */
function buttonData(card: unknown, verb: string): Record<string, unknown> {
  let found: Record<string, unknown> | undefined;
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      const o = n as Record<string, unknown>;
      if (o.type === 'Action.Execute' && o.verb === verb) found ??= o.data as Record<string, unknown>;
      Object.values(o).forEach(walk);
    }
  };
  walk(card);
  assert.ok(found, `no ${verb} button`);
  return found!;
}

describe('incidents from cards and chat', function () {
  this.timeout(120_000);
  let h: BotHarness;
  let rulesDir: string;
  const ines = PEOPLE.supervisor1087; // supervisor of 1087
  const xenia = PEOPLE.support;
  const paul = PEOPLE.user1087;

  before(async () => {
    rulesDir = mkdtempSync(join(tmpdir(), 'rules-'));
    cpSync(projectPath('rules'), rulesDir, { recursive: true });
    h = await botHarness({ alerts: { rulesDir } });
    // The support channel: the bot was added there and it subscribes to every rule.
    await exchange(h.bot, [inChannel(xenia, '<at>Support Bot</at> subscribe all')]);
    await h.settle();
  });
  after(async () => h.dispose());

  const forbidden = () => h.services.alerts!.state.incidents({ ruleId: 'forbidden-edit' })[0]!;

  it('the sample week gives each affected user their workaround and the supervisor of 1087 the incident card', () => {
    const toPaul = h.notifier.to('affected', '1087').filter((n) => n.ruleId === 'forbidden-edit');
    assert.equal(toPaul.length, 1);
    assert.match(textOf(toPaul[0]!.card), /11213/);
    const toInes = h.notifier.to('supervisor', '1345');
    assert.equal(toInes.length, 1);
    assert.match(textOf(toInes[0]!.card), /Paul Rossi \(1087\)/);
    assert.ok(h.notifier.to('channel', CHANNEL.id).length > 0, 'the support channel hears about incidents');
  });

  it('a supervisor acknowledges from the card; every copy then shows it', async () => {
    const card = h.notifier.to('supervisor', '1345')[0]!.card;
    const [reply] = await exchange(h.bot, [invoke(ines, 'incident.ack', buttonData(card, 'incident.ack'))]);
    const b = body(reply);
    assert.equal(b.statusCode, 200);
    assert.equal(b.type, 'application/vnd.microsoft.card.adaptive');
    assert.match(textOf(b.value), /Acknowledged by Ines Okafor/);
    assert.equal(forbidden().state, 'acknowledged');
    await h.services.alerts!.dispatcher.drain();
    const updates = h.notifier.sent.filter((n) => n.recipient.updateActivityId && n.incidentId === forbidden().id);
    assert.ok(updates.some((n) => n.recipient.role === 'channel'), 'the channel copy is updated');
    for (const u of updates.slice(-3)) assert.match(textOf(u.card), /Acknowledged by Ines Okafor/);
  });

  it('the same click again changes nothing and says so', async () => {
    const card = h.notifier.to('supervisor', '1345')[0]!.card;
    const [reply] = await exchange(h.bot, [invoke(ines, 'incident.ack', buttonData(card, 'incident.ack'))]);
    assert.equal(body(reply).type, 'application/vnd.microsoft.activity.message');
    assert.match(String(body(reply).value), /already acknowledged \(by Ines Okafor\)/);
  });

  it('a user without the supervisor role cannot act, and nothing changes', async () => {
    const card = h.notifier.to('supervisor', '1345')[0]!.card;
    const version = forbidden().version;
    for (const verb of ['incident.ack', 'incident.snooze', 'incident.resolve']) {
      const [reply] = await exchange(h.bot, [invoke(paul, verb, { ...buttonData(card, 'incident.ack'), duration: '1h', message: 'x' })]);
      assert.match(String(body(reply).value), /Only supervisors and support can (acknowledge|snooze|resolve) incidents/);
    }
    const [chat] = await exchange(h.bot, [say(paul, `resolve ${forbidden().id} all good`)]);
    assert.match(textOf(cardOf(chat)), /Not for your role/);
    assert.equal(forbidden().version, version);
  });

  it('refuses forged card data and logs it', async () => {
    const data = buttonData(h.notifier.to('supervisor', '1345')[0]!.card, 'incident.ack');
    const other = h.services.alerts!.state.incidents({ ruleId: 'web-proxy' })[0]!.id;
    const replies = await exchange(h.bot, [
      invoke(ines, 'incident.ack', { ...data, incidentId: other }),
      invoke(ines, 'incident.ack', { incidentId: data.incidentId }),
      invoke(ines, 'incident.ack', { ...data, sig: 'A'.repeat(22) }),
      invoke(ines, 'incident.ack', { ...data, incidentId: '1 OR 1=1' }),
    ]);
    for (const r of replies) assert.equal(body(r).statusCode, 400);
    assert.equal(h.services.alerts!.state.incident(other)!.state, 'open');
    assert.ok(h.services.logger.entries.filter((e) => e.msg === 'card action refused: forged or damaged incident data').length >= 4);
  });

  it('after acknowledge, a newly affected user still gets the workaround but supervisors and channels are not told again', async () => {
    const before = h.notifier.sent.length;
    const dir = mkdtempSync(join(tmpdir(), 'late-'));
    mkdirSync(join(dir, 'APP01', 'api'), { recursive: true });
    const t = new Date(h.clock() - 60_000).toISOString();
    appendFileSync(
      join(dir, 'APP01', 'api', '2020-06-12.log'),
      JSON.stringify({ time: t, level: 'Error', logger: 'L', message: 'Not authorized', node: 'APP01', userId: 1181, method: 'PUT', url: '/api/documents/99', statusCode: 403, documentId: 99, documentType: 'Service Hours Adjustment' }) + '\n',
    );
    await ingestPaths([dir], { store: h.engine.logStore, sources: loadSourcesConfig() });
    h.clock.advance(10_000);
    await h.settle();
    const fresh = h.notifier.sent.slice(before).filter((n) => !n.recipient.updateActivityId);
    assert.deepEqual(fresh.map((n) => `${n.ruleId}:${n.recipient.role}:${n.recipient.userId ?? ''}`), ['forbidden-edit:affected:1181']);
  });

  it('escalates to the support channel and to a support engineer, with the reason in the history', async () => {
    const id = forbidden().id;
    const data = buttonData(h.notifier.to('supervisor', '1345')[0]!.card, 'incident.escalate');
    const before = h.notifier.sent.length;
    const [r1, r2, r3] = await exchange(h.bot, [
      invoke(ines, 'incident.escalate', { ...data, to: 'channel', reason: 'more users every day' }),
      invoke(xenia, 'incident.escalate', { ...data, to: 'person:1011', reason: 'taking it' }),
      invoke(ines, 'incident.escalate', { ...data, to: 'person:9999', reason: 'x' }),
    ]);
    assert.match(textOf(body(r1).value), /Escalated by Ines Okafor/);
    assert.match(textOf(body(r2).value), /Escalated by Xenia Dubois.*taking it/s);
    assert.match(String(body(r3).value), /Choose where to escalate/);
    await h.services.alerts!.dispatcher.drain();
    const fresh = h.notifier.sent.slice(before).filter((n) => !n.recipient.updateActivityId);
    assert.ok(fresh.some((n) => n.recipient.role === 'channel' && n.recipient.conversationId === CHANNEL.id));
    assert.ok(fresh.some((n) => n.recipient.role === 'escalation' && n.recipient.userId === '1011'));
    const [details] = await exchange(h.bot, [say(xenia, `incident ${id}`)]);
    const t = textOf(cardOf(details));
    assert.match(t, /History/);
    assert.match(t, /acknowledged/);
    assert.match(t, /escalated: more users every day/);
  });

  it('snoozes from chat and from the card', async () => {
    const id = forbidden().id;
    const [chat] = await exchange(h.bot, [say(ines, `snooze ${id} 1h`)]);
    assert.match(textOf(cardOf(chat)), /snoozed until/);
    assert.ok(forbidden().snoozedUntil! > h.clock());
    const [bad] = await exchange(h.bot, [say(ines, `snooze ${id} forever`)]);
    assert.match(textOf(cardOf(bad)), /not a duration/);
  });

  it('lists open incidents', async () => {
    const [list] = await exchange(h.bot, [say(xenia, 'incidents')]);
    const t = textOf(cardOf(list));
    for (const rule of ['ack-missing', 'forbidden-edit', 'password-special-chars', 'web-proxy']) assert.match(t, new RegExp(rule));
  });

  it('feedback: "Still not working" goes to support with the recent errors; only the affected user may answer', async () => {
    const workaround = h.notifier.to('affected', '1087').find((n) => n.ruleId === 'forbidden-edit')!.card;
    const before = h.notifier.sent.length;
    const [mine, notMine] = await exchange(h.bot, [
      invoke(paul, 'incident.not-working', buttonData(workaround, 'incident.not-working')),
      invoke(PEOPLE.user1181, 'incident.helped', buttonData(workaround, 'incident.helped')),
    ]);
    assert.match(textOf(body(mine).value), /Support has your recent errors/);
    assert.equal(body(notMine).statusCode, 400, 'the signature is per user: someone else cannot answer');
    await h.services.alerts!.dispatcher.drain();
    const toChannel = h.notifier.sent.slice(before).filter((n) => n.recipient.role === 'channel' && !n.recipient.updateActivityId).map((n) => textOf(n.card));
    assert.ok(toChannel.some((t) => /Still not working: Paul Rossi \(1087\)/.test(t)));
    assert.ok(toChannel.some((t) => /Not authorized/.test(t)), 'with his recent errors');
    assert.deepEqual(h.services.alerts!.incidents.feedback(forbidden().id).map((f) => [f.userId, f.helped]), [['1087', false]]);
  });

  it('resolve tells every affected user once, and their workaround cards say it is resolved', async () => {
    const id = forbidden().id;
    const users = h.services.alerts!.state.incidentUsers(id).map((u) => u.userId).sort();
    const data = buttonData(h.notifier.to('supervisor', '1345')[0]!.card, 'incident.resolve');
    const before = h.notifier.sent.length;
    const [reply] = await exchange(h.bot, [invoke(ines, 'incident.resolve', { ...data, message: 'Fixed in 2.4.1: users can edit their adjustments.' })]);
    assert.match(textOf(body(reply).value), /Resolved by Ines Okafor/);
    await h.services.alerts!.dispatcher.drain();
    const fresh = h.notifier.sent.slice(before);
    const fixed = fresh.filter((n) => n.recipient.role === 'affected' && !n.recipient.updateActivityId);
    assert.deepEqual(fixed.map((n) => n.recipient.userId).sort(), users);
    for (const n of fixed) assert.match(textOf(n.card), /Fixed: .*[\s\S]*Fixed in 2\.4\.1/);
    const updated = fresh.filter((n) => n.recipient.role === 'affected' && n.recipient.updateActivityId);
    assert.ok(updated.length >= 1);
    for (const n of updated) {
      assert.match(textOf(n.card), /Resolved: Fixed in 2\.4\.1/);
      assert.doesNotMatch(JSON.stringify(n.card), /incident\.not-working/, 'no more feedback buttons');
    }
    // Resolving again, or acting on the resolved incident, is refused.
    const [again] = await exchange(h.bot, [invoke(ines, 'incident.resolve', { ...data, message: 'x' })]);
    assert.match(String(body(again).value), /resolved already/);
    await h.services.alerts!.dispatcher.drain();
    const twice = h.notifier.sent.filter((n) => n.idempotencyKey.startsWith(`fixed:${id}:`));
    assert.equal(twice.length, users.length, 'each fixed card once');
  });

  it('when the problem comes back after the fix, the incident reopens and support is told', async () => {
    const id = forbidden().id;
    const dir = mkdtempSync(join(tmpdir(), 'again-'));
    mkdirSync(join(dir, 'APP02', 'api'), { recursive: true });
    appendFileSync(
      join(dir, 'APP02', 'api', '2020-06-12.log'),
      JSON.stringify({ time: new Date(h.clock() - 1000).toISOString(), level: 'Error', message: 'Not authorized', node: 'APP02', userId: 1087, method: 'PUT', url: '/api/documents/11213', statusCode: 403, documentId: 11213, documentType: 'Service Hours Adjustment' }) + '\n',
    );
    await ingestPaths([dir], { store: h.engine.logStore, sources: loadSourcesConfig() });
    const before = h.notifier.sent.length;
    h.clock.advance(10_000);
    await h.settle();
    assert.equal(h.services.alerts!.state.incident(id)!.state, 'open');
    const fresh = h.notifier.sent.slice(before).filter((n) => !n.recipient.updateActivityId);
    assert.ok(fresh.some((n) => n.recipient.role === 'channel' && /reopened/.test(textOf(n.card))));
    assert.ok(fresh.some((n) => n.recipient.role === 'affected' && n.recipient.userId === '1087'), 'Paul is told again: the fix did not hold for him');
  });

  it('subscriptions from a channel, for staff only, not in personal chats', async () => {
    const replies = await exchange(h.bot, [
      inChannel(xenia, 'subscriptions'),
      inChannel(xenia, 'unsubscribe web-proxy'),
      inChannel(xenia, 'subscribe web-proxy'),
      inChannel(xenia, 'subscribe no-such-rule'),
      inChannel(paul, 'subscribe web-proxy'),
      say(xenia, 'subscribe web-proxy'),
    ]);
    const t = replies.map((r) => textOf(cardOf(r)));
    assert.match(t[0]!, /all rules/);
    assert.match(t[1]!, /Was not subscribed/);
    assert.match(t[2]!, /Subscribed/);
    assert.match(t[3]!, /There is no rule 'no-such-rule'.*forbidden-edit/s);
    assert.match(t[4]!, /Not for your role/);
    assert.match(t[5]!, /works in team, groupChat/);
  });

  it('drafts a rule from a question and saves it (support only) so it runs at once', async () => {
    const [draft] = await exchange(h.bot, [say(xenia, 'rule from "errors on /api/reports/* with status 500"')]);
    const card = cardOf(draft);
    assert.match(textOf(card), /url\.path/);
    const data = buttonData(card, 'rule.save');
    const inputs = { id: 'report-crash', title: 'Weekly report crashed', problem: 'Your report at {time} failed.', workaround: 'Try again in a minute.\nUse the monthly report meanwhile.', enabled: 'true' };
    const [byUser, forged, saved, duplicate] = await exchange(h.bot, [
      invoke(ines, 'rule.save', { ...data, ...inputs }),
      invoke(xenia, 'rule.save', { ...data, question: 'all logs', ...inputs }),
      invoke(xenia, 'rule.save', { ...data, ...inputs }),
      invoke(xenia, 'rule.save', { ...data, ...inputs }),
    ]);
    assert.match(String(body(byUser).value), /Only support engineers can save/);
    assert.equal(body(forged).statusCode, 400);
    assert.match(textOf(body(saved).value), /Saved as .*report-crash\.yaml; it runs from now on/);
    assert.ok(existsSync(join(rulesDir, 'report-crash.yaml')));
    assert.match(readFileSync(join(rulesDir, 'report-crash.yaml'), 'utf8'), /Weekly report crashed/);
    assert.ok(h.services.alerts!.rules().some((r) => r.id === 'report-crash' && r.enabled));
    assert.match(textOf(body(duplicate).value), /exists already/);
  });
});
