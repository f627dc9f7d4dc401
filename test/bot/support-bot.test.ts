/**
 * Turn-level tests of the bot with botbuilder's TestAdapter over the sample data (embedded store).
 */
import assert from 'node:assert/strict';
import { Activity } from 'botbuilder';
import { activity, BotHarness, botHarness, cardOf, cardTexts, exchange, PEOPLE } from '../support/bot';

const text = (reply: Partial<Activity> | undefined) => cardTexts(cardOf(reply)).join('\n');
const message = (from: (typeof PEOPLE)[keyof typeof PEOPLE], body: string, extra: Partial<Activity> = {}) =>
  activity(from, { type: 'message', text: body, ...extra });
const invoke = (from: (typeof PEOPLE)[keyof typeof PEOPLE], verb: string, data: unknown) =>
  activity(from, { type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb, data } } });

describe('bot turns', function () {
  this.timeout(60_000);
  let h: BotHarness;
  before(async () => {
    h = await botHarness();
  });
  after(async () => h.dispose());

  it('answers a support engineer with the two 403 events of user 1087 today', async () => {
    const [reply] = await exchange(h.bot, [message(PEOPLE.support, 'show errors for user 1087 today')]);
    const t = text(reply);
    assert.match(t, /errors for user 1087, Fri 12 Jun 2020 00:00–16:30 Europe\/Berlin/);
    assert.match(t, /2 events/);
    assert.match(t, /APP01\/api\/2020-06-12\.log:866/);
    assert.match(t, /APP01\/api\/2020-06-12\.log:878/);
    assert.match(t, /Fri 12 Jun 12:57:15/);
    assert.equal((t.match(/document 11213/g) ?? []).length, 2);
  });

  it('draws counts as a chart with the numbers beside it', async () => {
    const [reply] = await exchange(h.bot, [message(PEOPLE.supervisor1087, 'count errors by node this week')]);
    const card = cardOf(reply);
    const json = JSON.stringify(card);
    assert.match(json, /"type":"Chart\.(Vertical|Horizontal)Bar"/);
    assert.match(text(reply), /APP01/);
    const [hourly] = await exchange(h.bot, [message(PEOPLE.support, 'errors per hour today')]);
    assert.match(JSON.stringify(cardOf(hourly)), /"x":"12","y":7/);
  });

  it('answers "how many" with the number', async () => {
    const [reply] = await exchange(h.bot, [message(PEOPLE.support, 'how many failed logins yesterday')]);
    assert.match(text(reply), /count of failed logins/);
  });

  it('pages with "Show more", reading the question at the same now', async () => {
    const [reply] = await exchange(h.bot, [message(PEOPLE.support, 'errors this week')]);
    const card = JSON.stringify(cardOf(reply));
    const more = /"verb":"answer\.more","data":(\{[^}]*\})/.exec(card);
    assert.ok(more, 'a Show more button');
    const data = JSON.parse(more![1]!) as { offset: number; now: string };
    assert.equal(data.offset, 10);
    const [page] = await exchange(h.bot, [invoke(PEOPLE.support, 'answer.more', data)]);
    const value = (page!.value as { body: { statusCode: number; value: unknown } }).body;
    assert.equal(value.statusCode, 200);
    assert.match(cardTexts(value.value).join('\n'), /11–20 shown/);
  });

  it('lets an end user ask about their own problems', async () => {
    const [reply] = await exchange(h.bot, [message(PEOPLE.user1087, 'what went wrong for me today?')]);
    const t = text(reply);
    assert.match(t, /problems for user 1087/);
    assert.match(t, /Not authorized/);
  });

  it('narrows any question of an end user to their own events', async () => {
    const [reply] = await exchange(h.bot, [message(PEOPLE.user1087, 'show logs for document 11213')]);
    const t = text(reply);
    assert.match(t, /for you/);
    for (const row of t.matchAll(/(\d{4}) \([a-z.0-9]+\)/g)) assert.equal(row[1], '1087');
  });

  it('refuses an end user asking about someone else', async () => {
    const [reply] = await exchange(h.bot, [message(PEOPLE.user1087, 'show errors for user 1181 today')]);
    const t = text(reply);
    assert.match(t, /Only your own activity/);
    assert.match(t, /user 1181/);
    assert.doesNotMatch(t, /Not authorized|APP0\d\//);
  });

  it('answers what it did not understand with the reasons and examples', async () => {
    const [reply] = await exchange(h.bot, [message(PEOPLE.support, 'errors for nobody OR *:*')]);
    const t = text(reply);
    assert.match(t, /nobody/);
    assert.match(t, /show errors for user 1087 today/);
  });

  it('tells someone outside the directory who they are and what to do', async () => {
    const [help, question] = await exchange(h.bot, [message(PEOPLE.stranger, 'help'), message(PEOPLE.stranger, 'errors today')]);
    assert.match(text(help), /not in the directory/);
    assert.match(text(question), /not in the user directory/);
  });

  it('shows help and whoami by role', async () => {
    const [support, user, who] = await exchange(h.bot, [message(PEOPLE.support, 'help'), message(PEOPLE.user1087, 'help'), message(PEOPLE.user1087, 'whoami')]);
    assert.match(text(support), /count errors by node this week/);
    assert.match(text(user), /what went wrong for me today/);
    assert.doesNotMatch(text(user), /count errors by node/);
    assert.match(text(who), /Paul Rossi \(p\.rossi\), user 1087 .* role user\. Your supervisor is Ines Okafor/);
  });

  it('removes the mention in a channel and answers there', async () => {
    const [reply] = await exchange(h.bot, [
      message(PEOPLE.support, '<at>Support Bot</at> how many errors today', {
        conversation: { id: '19:channel@thread.tacv2', conversationType: 'channel', isGroup: true, name: 'General', tenantId: 't' },
        entities: [{ type: 'mention', text: '<at>Support Bot</at>', mentioned: { id: 'bot-id', name: 'Support Bot' } }],
        channelData: { team: { id: 'team-1' }, tenant: { id: 't' } },
      }),
    ]);
    assert.match(text(reply), /count of errors, Fri 12 Jun 2020/);
  });

  it('keeps conversation references from install and first message, and drops them on uninstall', async () => {
    await exchange(h.bot, [activity(PEOPLE.user1181, { type: 'installationUpdate', action: 'add' })]);
    const saved = h.state.personalConversation(PEOPLE.user1181.aadObjectId);
    assert.ok(saved, 'saved on install');
    assert.equal((saved!.reference.conversation as { id: string }).id, 'personal-teams-1181');
    await exchange(h.bot, [message(PEOPLE.supervisor1087, 'whoami')]);
    assert.ok(h.state.personalConversation(PEOPLE.supervisor1087.aadObjectId), 'saved on first message');
    await exchange(h.bot, [activity(PEOPLE.user1181, { type: 'installationUpdate', action: 'remove' })]);
    assert.equal(h.state.personalConversation(PEOPLE.user1181.aadObjectId), undefined);
  });

  it('sends a welcome card on install', async () => {
    const [welcome] = await exchange(h.bot, [activity(PEOPLE.supervisor1087, { type: 'installationUpdate', action: 'add' })]);
    assert.match(text(welcome), /Ines Okafor/);
  });

  it('refuses a forged or unknown card action and changes nothing', async () => {
    const replies = await exchange(h.bot, [
      invoke(PEOPLE.support, 'incident.delete-everything', { id: 1 }),
      invoke(PEOPLE.support, 'answer.more', { question: 'errors', offset: -5, now: 'yesterday', timeZone: 'Mars/Base' }),
      invoke(PEOPLE.support, 'answer.more', 'not an object'),
    ]);
    for (const r of replies) assert.equal((r.value as { body: { statusCode: number } }).body.statusCode, 400);
    assert.ok(h.services.logger.entries.some((e) => e.msg === 'card action refused: unknown verb or bad data'));
  });

  it('an end user cannot widen a "Show more" by forging its data', async () => {
    const [page] = await exchange(h.bot, [invoke(PEOPLE.user1087, 'answer.more', { question: 'errors for user 1181', offset: 1, now: '2020-06-12T14:30:00Z', timeZone: 'UTC' })]);
    const body = (page!.value as { body: { value: unknown } }).body;
    assert.match(cardTexts(body.value).join('\n'), /Only your own activity/);
  });

  it('masks secrets in every answer', async () => {
    const { ingestPaths } = await import('../../src/logs/ingest');
    const { loadSourcesConfig } = await import('../../src/logs/sources');
    const { tempDir } = await import('../support/stores');
    const { writeFileSync, mkdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dir = tempDir();
    try {
      mkdirSync(join(dir.path, 'APP09', 'api'), { recursive: true });
      const line = (params: string, message: string) =>
        JSON.stringify({ time: '2020-06-12T16:00:00.000+02:00', level: 'Error', message, userId: 1087, method: 'POST', url: '/api/login', statusCode: 500, params });
      writeFileSync(
        join(dir.path, 'APP09', 'api', '2020-06-12.log'),
        [
          line('{"password":"Hunter2!","token":"tok-123"}', 'Login failed with password=Hunter2! for secret agent'),
          line('user=a&apiKey=AKIA123&pwd=p4ss', 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl sent'),
        ].join('\n') + '\n',
      );
      await ingestPaths([dir.path], { store: h.engine.logStore, sources: loadSourcesConfig() });
      const replies = await exchange(h.bot, [
        message(PEOPLE.support, 'show errors for user 1087 today'),
        message(PEOPLE.support, 'top 5 errors today'),
        message(PEOPLE.user1087, 'what went wrong for me today?'),
      ]);
      for (const reply of replies) {
        const all = JSON.stringify(reply);
        for (const secret of ['Hunter2!', 'tok-123', 'AKIA123', 'p4ss', 'eyJhbGciOiJIUzI1NiJ9', 'c2lnbmF0dXJl']) {
          assert.ok(!all.includes(secret), `secret ${secret} reached a card`);
        }
      }
      assert.match(text(replies[0]), /password=••••••/);
    } finally {
      dir.remove();
    }
  });
});
