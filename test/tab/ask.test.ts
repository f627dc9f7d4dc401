/**
 * The search box gives the chat's answer: for each person and question, the tab's answer rendered
 * with the chat's templates is the very card bot/commands/question.ts sends — list, chart, count,
 * "not understood", and the refusal of a user asking about someone else. Then the same over HTTP:
 * a user's answers hold only their own events, and "Show more" pages read like the chat's.
 */
import assert from 'node:assert/strict';
import { answerQuestion, PAGE_SIZE } from '../../bot/commands/question';
import { askAs, QuestionAnswer as TabAnswer } from '../../bot/commands/question';
import { tabTurn } from '../../bot/tab/api';
import { TabUser } from '../../bot/tab/auth';
import { AdaptiveCardJson } from '../../src/cards/render-card';
import { Person } from '../../src/directory/user-directory';
import { SAMPLE_NOW } from '../support/bot';
import { call, startTabServer, TabServer, WHO } from './tab-harness';

describe('tab: the search box answers like the chat', function () {
  this.timeout(60_000);
  let t: TabServer;
  const timeZone = 'Europe/Berlin';
  const now = new Date(SAMPLE_NOW);

  before(async () => {
    t = await startTabServer({ mode: 'sso' });
  });
  after(async () => t?.close());

  const person = (userId: string): Person => t.h.engine.directory.byUserId(userId)!;
  const user = (p: Person): TabUser => ({ person: p, via: 'sso', aadObjectId: p.aadObjectId });

  function render(answer: TabAnswer): AdaptiveCardJson {
    const cards = t.h.services.cards;
    switch (answer.outcome) {
      case 'answered':
        return cards.render(answer.card.name, answer.card.data as never);
      case 'not-understood':
        return cards.render('not-understood', answer.data);
      default:
        return cards.render('notice', answer.notice);
    }
  }

  const table: [string, string, TabAnswer['outcome']][] = [
    ['1011', 'show errors for user 1087 today', 'answered'],
    ['1011', 'count errors by user today', 'answered'],
    ['1011', 'errors per hour today', 'answered'],
    ['1011', 'how many failed logins this week', 'answered'],
    ['1011', 'show all logs', 'answered'],
    ['1345', 'show errors for "Paul Rossi" this week', 'answered'],
    ['1345', 'blorp 1234', 'not-understood'],
    ['1087', 'what went wrong for me today', 'answered'],
    ['1087', 'show errors this week', 'answered'],
    ['1087', 'count errors by user this week', 'answered'],
    ['1087', 'show errors for user 1181 today', 'refused'],
    ['1087', 'errors for y.larsen', 'refused'],
  ];
  for (const [userId, question, outcome] of table) {
    it(`${userId}: "${question}" → ${outcome}, the chat's card`, async () => {
      const p = person(userId);
      const tab = await askAs(t.h.services, p, question, { timeZone, now });
      assert.equal(tab.outcome, outcome);
      const chat = await answerQuestion(tabTurn(t.h.services, user(p)), question, { now, timeZone });
      assert.deepEqual(render(tab), chat.content);
    });
  }

  it('a second page is the chat\'s "Show more" page', async () => {
    const p = person('1011');
    const first = await askAs(t.h.services, p, 'show all logs', { timeZone, now });
    assert.equal(first.outcome, 'answered');
    const more = first.outcome === 'answered' && first.card.name === 'answer-list' ? first.card.data.more : undefined;
    assert.ok(more, 'a long list has more');
    assert.equal(more.offset, PAGE_SIZE);
    const second = await askAs(t.h.services, p, 'show all logs', { timeZone, now: new Date(more.now), offset: more.offset });
    const chat = await answerQuestion(tabTurn(t.h.services, user(p)), 'show all logs', { now: new Date(more.now), timeZone, offset: more.offset });
    assert.deepEqual(render(second), chat.content);
  });

  it('over HTTP: a user sees only their own events, and is refused others\' with 403 and the chat\'s words', async () => {
    const auth = { authorization: `Bearer ${t.tokenFor(WHO.user)}` };
    const own = await call(t.url, 'GET', `/tab/api/ask?q=${encodeURIComponent('show errors this week')}`, { headers: auth });
    assert.equal(own.status, 200, own.text);
    const card = own.body.card as { name: string; data: { interpretation: string; rows: { user: string }[] } };
    assert.equal(card.name, 'answer-list');
    assert.match(card.data.interpretation, /for you/);
    assert.ok(card.data.rows.length > 0);
    for (const row of card.data.rows) assert.equal(row.user, '1087 (p.rossi)');
    const other = await call(t.url, 'GET', `/tab/api/ask?q=${encodeURIComponent('show errors for user 1181 today')}`, { headers: auth });
    assert.equal(other.status, 403);
    assert.equal(other.body.outcome, 'refused');
    assert.equal(other.body.title, 'Only your own activity');
    assert.match(String(other.body.message), /Questions about other people \(user 1181\) are for support and supervisors/);
  });

  it('over HTTP: next pages through a long list with the same "now"', async () => {
    const auth = { authorization: `Bearer ${t.tokenFor(WHO.support)}` };
    const first = await call(t.url, 'GET', '/tab/api/ask?q=show%20all%20logs%20today', { headers: auth });
    assert.equal(first.status, 200);
    const next = first.body.next as string;
    assert.match(next, /^\/tab\/api\/ask\?q=show\+all\+logs\+today&offset=10&now=2020-06-12T14%3A\d{2}%3A\d{2}\.\d{3}Z&tz=Europe%2FBerlin$/);
    const second = await call(t.url, 'GET', next, { headers: auth });
    assert.equal(second.status, 200);
    const rows = (r: typeof first) => (r.body.card as { data: { rows: { source: string }[] } }).data.rows.map((x) => x.source);
    assert.equal(rows(second).length, PAGE_SIZE);
    assert.deepEqual(rows(first).filter((s) => rows(second).includes(s)), [], 'no event twice');
  });
});
