/**
 * The dashboard's JSON API over HTTP, against the bot over the sample week: who gets in (Teams
 * SSO tokens; local mode only from this machine), who may act (the directory's role, exactly as on
 * the cards), that an acknowledge or resolve from the tab is the same change the cards make (audit,
 * outbox, card copies), input validation, pagination, and numbers that match the stores.
 */
import assert from 'node:assert/strict';
import { OutboxItem } from '../../src/alerts/outbox';
import { call, newKey, Reply, signToken, ssoClaims, startTabServer, TabServer, WHO } from './tab-harness';

type Item = Record<string, unknown>;

/** What an incident looks like in the stores: a refused request must leave all of it as it was. */
function snapshot(t: TabServer, id: number) {
  const alerts = t.h.services.alerts!;
  return {
    incident: alerts.incidents.get(id),
    audit: alerts.incidents.audit(id).length,
    outbox: alerts.outbox.counts(),
    forIncident: alerts.outbox.items({ incidentId: id, limit: 10_000 }).length,
  };
}

describe('tab API: Teams SSO', function () {
  this.timeout(60_000);
  let t: TabServer;
  const as = (who: { aadObjectId: string; name?: string }, overrides: Record<string, unknown> = {}) => ({ authorization: `Bearer ${t.tokenFor(who, overrides)}` });
  const get = (path: string, headers: Record<string, string> = {}) => call(t.url, 'GET', path, { headers });
  const post = (path: string, headers: Record<string, string>, json: unknown = {}) => call(t.url, 'POST', path, { headers, json });
  /** The incident of the forbidden-edit rule: it has supervisor copies of its card. */
  const forbiddenEdit = () => t.h.services.alerts!.state.incidents({ ruleId: 'forbidden-edit' })[0]!.id;
  const ackMissing = () => t.h.services.alerts!.state.incidents({ ruleId: 'ack-missing' })[0]!.id;

  before(async () => {
    t = await startTabServer({ mode: 'sso' });
  });
  after(async () => t?.close());

  it('refuses a request without a token: 401, a clear message and a Bearer challenge', async () => {
    const r = await get('/tab/api/me');
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'unauthorized');
    assert.match(String(r.body.message), /open the dashboard in Microsoft Teams/i);
    assert.equal(r.headers['www-authenticate'], 'Bearer');
  });

  it('does not take this machine for the local user when the bot has credentials', async () => {
    // The request comes from 127.0.0.1, but only a token counts in Teams mode.
    assert.equal((await get('/tab/api/incidents')).status, 401);
  });

  it('knows the person from a valid token: their directory entry and role', async () => {
    const r = await get('/tab/api/me', as(WHO.supervisor));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.name, 'Ines Okafor');
    assert.equal(r.body.role, 'supervisor');
    assert.equal(r.body.staff, true);
    assert.equal(r.body.via, 'sso');
    assert.equal(r.body.releaseAt, '2020-06-10T04:00:00.000Z');
  });

  const invalid: [string, () => Record<string, string>, RegExp][] = [
    ['expired', () => as(WHO.support, { exp: Math.floor(Date.now() / 1000) - 3600 }), /expired/],
    ['for another audience', () => as(WHO.support, { aud: 'api://other-app' }), /another application/],
    ['signed with another key', () => ({ authorization: `Bearer ${forge(t)}` }), /signature/],
    ['from another tenant', () => as(WHO.support, { tid: '72f988bf-86f1-41af-91ab-2d7cd011db47', iss: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0' }), /tenant/],
    ['not a JWT', () => ({ authorization: 'Bearer hello' }), /not a JSON Web Token/],
  ];
  for (const [what, headers, message] of invalid) {
    it(`answers 401 to a token ${what}`, async () => {
      const r = await get('/tab/api/incidents', headers());
      assert.equal(r.status, 401, r.text);
      assert.equal(r.body.error, 'unauthorized');
      assert.match(String(r.body.message), message);
      assert.match(String(r.headers['www-authenticate']), /^Bearer error="invalid_token"/);
    });
  }

  it('answers 403 to a valid token of someone who is not in the directory', async () => {
    const r = await get('/tab/api/me', as(WHO.stranger));
    assert.equal(r.status, 403);
    assert.match(String(r.body.message), /not in the user directory/);
  });

  it('keeps incidents, rules and trends for supervisors and support; a user may still ask', async () => {
    for (const path of ['/tab/api/incidents', `/tab/api/incidents/${forbiddenEdit()}`, '/tab/api/rules', '/tab/api/trend']) {
      const r = await get(path, as(WHO.user));
      assert.equal(r.status, 403, path);
      assert.match(String(r.body.message), /for supervisors and support/);
    }
    assert.equal((await get('/tab/api/me', as(WHO.user))).status, 200);
    assert.equal((await get('/tab/api/ask?q=what%20went%20wrong%20for%20me%20today', as(WHO.user))).status, 200);
  });

  it('refuses an acknowledge by a user (role) with 403 and changes nothing', async () => {
    const id = forbiddenEdit();
    const before = snapshot(t, id);
    const r = await post(`/tab/api/incidents/${id}/acknowledge`, as(WHO.user));
    assert.equal(r.status, 403);
    assert.match(String(r.body.message), /Only supervisors and support can acknowledge/);
    const r2 = await post(`/tab/api/incidents/${id}/resolve`, as(WHO.user), { message: 'fixed' });
    assert.equal(r2.status, 403);
    // Claims of a role anywhere but the directory count for nothing: in the body, or in the token.
    const r3 = await post(`/tab/api/incidents/${id}/acknowledge`, as(WHO.user), { userId: '1345', role: 'supervisor', actor: 'Ines Okafor' });
    assert.equal(r3.status, 403);
    const r4 = await post(`/tab/api/incidents/${id}/acknowledge`, as(WHO.user, { roles: ['supervisor'], name: 'Ines Okafor' }));
    assert.equal(r4.status, 403);
    assert.deepEqual(snapshot(t, id), before);
    // A refused person learns nothing about which incidents exist.
    assert.equal((await post('/tab/api/incidents/999/acknowledge', as(WHO.user))).status, 403);
    assert.ok(t.h.services.logger.entries.some((e) => e.msg === 'dashboard action refused: role'));
  });

  it('refuses a forged acknowledge (a supervisor token signed with another key) with 401 and changes nothing', async () => {
    const id = forbiddenEdit();
    const before = snapshot(t, id);
    const r = await post(`/tab/api/incidents/${id}/acknowledge`, { authorization: `Bearer ${forge(t, WHO.supervisor)}` });
    assert.equal(r.status, 401);
    const r2 = await post(`/tab/api/incidents/${id}/acknowledge`, as(WHO.stranger));
    assert.equal(r2.status, 403);
    assert.deepEqual(snapshot(t, id), before);
  });

  it('acknowledges through the same action as the cards: state, audit, and updates of every card copy queued', async () => {
    const id = forbiddenEdit();
    const alerts = t.h.services.alerts!;
    const copies = alerts.outbox
      .items({ incidentId: id, status: 'sent', limit: 10_000 })
      .filter((i) => i.notification.recipient.role !== 'affected' && !i.notification.recipient.updateActivityId && i.activityId);
    assert.ok(copies.length >= 2, 'the incident card went to supervisors and the support channel');
    const r = await post(`/tab/api/incidents/${id}/acknowledge`, as(WHO.supervisor));
    assert.equal(r.status, 200, r.text);
    assert.match(String(r.body.text), new RegExp(`Incident ${id} acknowledged`));
    assert.equal((r.body.incident as Item).state, 'acknowledged');
    assert.equal(alerts.incidents.get(id)!.state, 'acknowledged');
    const last = alerts.incidents.audit(id).at(-1)!;
    assert.equal(last.action, 'acknowledged');
    assert.equal(last.actorName, 'Ines Okafor');
    // Every copy already sent gets its replacement queued (pending: the dispatcher delivers).
    const updates = alerts.outbox.items({ incidentId: id, status: 'pending', limit: 10_000 }).filter((i) => i.notification.recipient.updateActivityId);
    assert.deepEqual(new Set(updates.map((u) => u.notification.recipient.updateActivityId)), new Set(copies.map((c) => c.activityId)));
    for (const u of updates) assert.match(JSON.stringify(u.notification.card), /Acknowledged by Ines Okafor/);
    await alerts.dispatcher.drain();
    assert.ok(t.h.notifier.sent.filter((n) => n.incidentId === id && n.recipient.updateActivityId).length >= copies.length);
  });

  it('says so when the incident was acknowledged already (409) or does not exist (404)', async () => {
    const id = forbiddenEdit();
    const r = await post(`/tab/api/incidents/${id}/acknowledge`, as(WHO.support));
    assert.equal(r.status, 409);
    assert.match(String(r.body.message), /already acknowledged \(by Ines Okafor\)/);
    const missing = await post('/tab/api/incidents/999/acknowledge', as(WHO.support));
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, 'There is no incident 999.');
  });

  it('validates a resolve: a message of 1 to 500 characters, sent as JSON from our own page', async () => {
    const id = ackMissing();
    const before = snapshot(t, id);
    const cases: [unknown, number, RegExp][] = [
      [{}, 400, /send \{"message"/i],
      [{ message: 42 }, 400, /send \{"message"/i],
      [{ message: '   ' }, 400, /1 to 500 characters/],
      [{ message: 'x'.repeat(501) }, 400, /1 to 500 characters/],
      [{ message: 'x'.repeat(5000) }, 400, /too long/],
      [['fixed'], 400, /send \{"message"/i],
    ];
    for (const [body, status, message] of cases) {
      const r = await post(`/tab/api/incidents/${id}/resolve`, as(WHO.support), body);
      assert.equal(r.status, status, JSON.stringify(body));
      assert.match(String(r.body.message), message);
    }
    const text = await call(t.url, 'POST', `/tab/api/incidents/${id}/resolve`, { headers: { ...as(WHO.support), 'content-type': 'text/plain' }, body: '{"message":"fixed"}' });
    assert.equal(text.status, 415);
    const foreign = await call(t.url, 'POST', `/tab/api/incidents/${id}/resolve`, { headers: { ...as(WHO.support), origin: 'https://evil.example' }, json: { message: 'fixed' } });
    assert.equal(foreign.status, 403);
    const crossSite = await call(t.url, 'POST', `/tab/api/incidents/${id}/resolve`, { headers: { ...as(WHO.support), 'sec-fetch-site': 'cross-site' }, json: { message: 'fixed' } });
    assert.equal(crossSite.status, 403);
    assert.deepEqual(snapshot(t, id), before);
  });

  it('resolves like the cards: every affected user is told, with the message', async () => {
    const id = ackMissing();
    const alerts = t.h.services.alerts!;
    const users = alerts.state.incidentUsers(id).map((u) => u.userId);
    const r = await post(`/tab/api/incidents/${id}/resolve`, as(WHO.support), { message: 'Fixed in 2.4.1: saving works again.' });
    assert.equal(r.status, 200, r.text);
    assert.equal(alerts.incidents.get(id)!.state, 'resolved');
    const fixed: OutboxItem[] = alerts.outbox.items({ incidentId: id, limit: 10_000 }).filter((i) => i.notification.idempotencyKey.startsWith(`fixed:${id}:`));
    assert.deepEqual(fixed.map((f) => f.notification.recipient.userId).sort(), [...users].sort());
    for (const f of fixed) assert.match(JSON.stringify(f.notification.card), /Fixed in 2\.4\.1: saving works again\./);
    assert.equal((await post(`/tab/api/incidents/${id}/resolve`, as(WHO.support), { message: 'again' })).status, 409);
  });

  it('validates ids, pages and parameters with 400 and a message', async () => {
    const bad: [string, RegExp][] = [
      ['/tab/api/incidents/abc', /incident id/],
      ['/tab/api/incidents/0', /incident id/],
      ['/tab/api/incidents/1234567890', /incident id/],
      ['/tab/api/incidents?limit=0', /Limit must be a whole number from 1 to 100/],
      ['/tab/api/incidents?limit=101', /Limit/],
      ['/tab/api/incidents?offset=-1', /Offset/],
      ['/tab/api/incidents?limit=1&limit=2', /Give limit once/],
      ['/tab/api/incidents?state=closed', /State must be/],
      ['/tab/api/trend?hours=0', /Hours must be a whole number from 1 to 336/],
      ['/tab/api/trend?hours=337', /Hours/],
      ['/tab/api/trend?by=host', /By must be rule or dataset/],
      ['/tab/api/ask', /ask a question/i],
      [`/tab/api/ask?q=${'a'.repeat(1001)}`, /at most 1000 characters/],
      ['/tab/api/ask?q=errors&tz=Mars%2FOlympus', /IANA time zone/],
      ['/tab/api/ask?q=errors&now=yesterday', /ISO 8601/],
      ['/tab/api/ask?q=errors&offset=9001', /Offset/],
    ];
    for (const [path, message] of bad) {
      const r = await get(path, as(WHO.support));
      assert.equal(r.status, 400, `${path}: ${r.text}`);
      assert.equal(r.body.error, 'bad-request');
      assert.match(String(r.body.message), message, path);
    }
  });

  it('pages the incident list: { items, total, next } and next until null', async () => {
    const all = t.h.services.alerts!.state.incidents();
    const seen: number[] = [];
    let next: string | null = '/tab/api/incidents?state=all&limit=3';
    let pages = 0;
    while (next) {
      const r: Reply = await get(next, as(WHO.support));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.total, all.length);
      seen.push(...(r.body.items as Item[]).map((i) => i.id as number));
      next = r.body.next as string | null;
      pages++;
    }
    assert.equal(pages, Math.ceil(all.length / 3));
    assert.deepEqual(seen, all.map((i) => i.id));
    const active = await get('/tab/api/incidents', as(WHO.support));
    assert.deepEqual((active.body.items as Item[]).map((i) => i.state).filter((s) => s === 'resolved'), []);
  });

  it('shows one incident with its affected users, audit trail and feedback', async () => {
    const id = forbiddenEdit();
    const alerts = t.h.services.alerts!;
    alerts.incidents.giveFeedback(id, '1087', 'Paul Rossi', false);
    const r = await get(`/tab/api/incidents/${id}`, as(WHO.support));
    assert.equal(r.status, 200);
    const users = r.body.users as Item[];
    assert.equal(users.length, alerts.state.incidentUsers(id).length);
    const paul = users.find((u) => u.userId === '1087')!;
    assert.equal(paul.name, 'Paul Rossi');
    assert.equal(paul.feedback, 'not-working');
    assert.equal(paul.delivery, 'workaround sent');
    assert.match(String(paul.summary), /11213/);
    assert.deepEqual(r.body.feedback, { helped: 0, notWorking: 1 });
    assert.deepEqual((r.body.audit as Item[]).map((a) => a.action), alerts.incidents.audit(id).map((a) => a.action));
    assert.deepEqual(r.body.actions, { acknowledge: false, resolve: true });
  });

  it('lists rules with their last run, matches, notifications sent and unreachable users', async () => {
    const alerts = t.h.services.alerts!;
    const r = await get('/tab/api/rules', as(WHO.support));
    assert.equal(r.status, 200);
    const items = r.body.items as Item[];
    assert.deepEqual(items.map((i) => i.id), alerts.rules().map((rule) => rule.id));
    for (const item of items) {
      const id = item.id as string;
      const sent = alerts.outbox.items({ ruleId: id, status: 'sent', limit: 100_000 }).filter((i) => !i.notification.recipient.updateActivityId);
      assert.equal(item.notificationsSent, sent.length, id);
      assert.equal(item.lastRun, new Date(alerts.state.checkpoint(id)!).toISOString());
      const incidents = alerts.state.incidents({ ruleId: id });
      assert.equal(item.matchedEvents, incidents.reduce((n, i) => n + i.events, 0));
      assert.equal(item.enabled, true);
      assert.deepEqual(item.unreachableUsers, []);
    }
    assert.equal(r.body.next, null);
  });
});

describe('tab API: local mode', function () {
  this.timeout(60_000);
  let t: TabServer;

  before(async () => {
    t = await startTabServer({ mode: 'local', localUser: '1345' });
  });
  after(async () => t?.close());

  it('acts as the local user for requests from this machine', async () => {
    const r = await call(t.url, 'GET', '/tab/api/me');
    assert.equal(r.status, 200);
    assert.equal(r.body.name, 'Ines Okafor');
    assert.equal(r.body.via, 'local');
  });

  it('refuses a foreign Host (DNS rebinding) and forwarded requests with 401', async () => {
    const cases: Record<string, string>[] = [{ host: 'evil.example:3978' }, { 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }];
    for (const headers of cases) {
      const r = await call(t.url, 'GET', '/tab/api/me', { headers });
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.match(String(r.body.message), /only this machine/);
    }
    assert.equal((await call(t.url, 'GET', '/tab/api/me', { headers: { host: `localhost:${t.port}` } })).status, 200);
  });

  it('ignores a token: local mode has nobody to check it against', async () => {
    const r = await call(t.url, 'GET', '/tab/api/me', { headers: { authorization: 'Bearer forged.token.here' } });
    assert.equal(r.body.name, 'Ines Okafor');
  });

  it('refuses a cross-site change: another site in the same browser cannot act as the local user', async () => {
    const id = t.h.services.alerts!.state.incidents({ ruleId: 'forbidden-edit' })[0]!.id;
    const form = await call(t.url, 'POST', `/tab/api/incidents/${id}/acknowledge`, { headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: 'x=1' });
    assert.equal(form.status, 415);
    const json = await call(t.url, 'POST', `/tab/api/incidents/${id}/acknowledge`, { headers: { origin: 'https://evil.example' }, json: {} });
    assert.equal(json.status, 403);
    assert.equal(t.h.services.alerts!.incidents.get(id)!.state, 'open');
    const own = await call(t.url, 'POST', `/tab/api/incidents/${id}/acknowledge`, { headers: { origin: t.url, 'sec-fetch-site': 'same-origin' }, json: {} });
    assert.equal(own.status, 200, own.text);
  });

  it('serves the pages with a CSP that allows nothing from elsewhere, and teams-js from node_modules', async () => {
    for (const path of ['/tab/', '/tab/rules', '/tab/trend', '/tab/incidents/2', '/tab/configure']) {
      const r = await call(t.url, 'GET', path);
      assert.equal(r.status, 200, path);
      const csp = String(r.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'; script-src 'self'; style-src 'self'/);
      assert.match(csp, /frame-ancestors 'self' https:\/\/teams\.microsoft\.com/);
      assert.doesNotMatch(r.text, /https?:\/\/(?!www\.w3\.org)/, `${path} links nothing outside`);
    }
    const teams = await call(t.url, 'GET', '/tab/assets/teams-js.min.js');
    assert.equal(teams.status, 200);
    assert.match(String(teams.headers['content-type']), /javascript/);
    assert.match(teams.text, /microsoftTeams/);
    assert.equal((await call(t.url, 'GET', '/tab/assets/..%2F..%2Fpackage.json')).status, 404);
    assert.equal((await call(t.url, 'GET', '/tab/assets/tsconfig.json')).status, 404);
    const redirect = await call(t.url, 'GET', '/tab');
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.location, '/tab/');
  });
});

describe('tab API: local mode without a local user', function () {
  this.timeout(60_000);
  let t: TabServer;
  before(async () => {
    t = await startTabServer({ mode: 'local', localUser: 'none' });
  });
  after(async () => t?.close());

  it('answers 403 and says how to choose one', async () => {
    const r = await call(t.url, 'GET', '/tab/api/me');
    assert.equal(r.status, 403);
    assert.match(String(r.body.message), /npm start/);
  });
});

/** A token that says it is for `who`, signed with the attacker's own key under the published key id. */
function forge(t: TabServer, who: { aadObjectId: string; name?: string } = WHO.support): string {
  return signToken(ssoClaims(who), newKey(t.key!.kid));
}
