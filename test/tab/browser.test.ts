/**
 * The dashboard in headless Chromium (Debian's, through playwright-core; nothing loads from the
 * internet): outside Teams as the local user, and inside a stand-in Teams host that speaks
 * teams-js's postMessage protocol (initialize, getContext, getAuthToken, theme changes, the
 * configuration page's Save) with SSO tokens signed by a test key. Screenshots go to
 * test-artifacts/tab/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { Frame, Page } from 'playwright-core';
import { LogQuery } from '../../src/query/log-query';
import { projectPath } from '../../src/paths';
import { launchBrowser, LaunchedBrowser } from '../support/browser';
import { RELEASE_AT, startTabServer, TabServer, WHO } from './tab-harness';

const ARTIFACTS = projectPath('test-artifacts', 'tab');
const ZONE = 'Europe/Berlin';

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Page errors and console errors, except the refused requests to Microsoft's CDN (teams-js's list of hosts). */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/ERR_BLOCKED_BY_CLIENT|res\.cdn\.office\.net/.test(m.text())) errors.push(m.text());
  });
  return errors;
}

/** Waits until the dashboard in this page or frame has rendered its view. */
async function rendered(target: Page | Frame, timeout = 10_000): Promise<void> {
  await target.locator('main[aria-busy="false"]').waitFor({ timeout });
}

/**
 * What has focus, in words a failing assertion can show. (A script string: this project's
 * TypeScript has no DOM types, the browser has them.)
 */
const FOCUSED = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return 'body';
  const name = el.getAttribute('aria-label') ?? (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement ? el.tagName.toLowerCase() + '#' + el.id + ': ' + el.value : el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60));
  return el.tagName.toLowerCase() + (el.id && !(el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) ? '#' + el.id : '') + ': ' + name;
})()`;

async function focused(target: Page): Promise<string> {
  return target.evaluate<string>(FOCUSED);
}

/** A computed style of the first element matching `selector`. */
function style(page: Page, selector: string, property: string): Promise<string> {
  return page.evaluate<string>(`getComputedStyle(document.querySelector(${JSON.stringify(selector)}))[${JSON.stringify(property)}]`);
}

/** When the page knew whether it is in Teams, in ms since its navigation started (app.js marks it). */
function hostConnectedAt(target: Page | Frame): Promise<number> {
  return target.evaluate<number>("performance.getEntriesByName('supportbot:host-connected')[0]?.startTime ?? -1");
}

/** The hourly histogram the trend must show, asked of the log store directly. */
async function storeHistogram(t: TabServer, filters: LogQuery['filters'], hours: number): Promise<{ counts: Map<string, number>; total: number }> {
  const now = t.h.engine.clock();
  const from = DateTime.fromMillis(now, { zone: ZONE }).startOf('hour').minus({ hours: hours - 1 });
  const result = await t.h.engine.logStore.search({
    filters,
    time: { gte: from.toUTC().toISO()!, lt: new Date(now).toISOString() },
    shape: { kind: 'histogram', interval: 'hour', timeZone: ZONE },
  });
  const counts = new Map<string, number>();
  for (const b of result.buckets ?? []) if (b.count) counts.set(DateTime.fromISO(b.key).toUTC().toISO()!, b.count);
  return { counts, total: result.total };
}

/** The bars the chart drew for a series: hour (UTC ISO) → count, with each bar's height. */
async function drawnBars(page: Page, series: string): Promise<{ counts: Map<string, number>; heights: { count: number; height: number }[] }> {
  const bars = await page.locator(`svg.trend-chart rect[data-series="${series}"]`).evaluateAll((rects) =>
    rects.map((r) => ({ key: r.getAttribute('data-key')!, count: Number(r.getAttribute('data-count')), height: Number(r.getAttribute('height')) })),
  );
  return {
    counts: new Map(bars.map((b) => [DateTime.fromISO(b.key).toUTC().toISO()!, b.count])),
    heights: bars.map((b) => ({ count: b.count, height: b.height })),
  };
}

describe('tab in Chromium: local mode, outside Teams', function () {
  this.timeout(120_000);
  let t: TabServer;
  let browser: LaunchedBrowser;
  let page: Page;
  let errors: string[];

  before(async () => {
    t = await startTabServer({ mode: 'local', localUser: '1011' });
    browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    errors = watchErrors(page);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });
  afterEach(async function () {
    // Taken before the next test moves the page on.
    if (this.currentTest?.state === 'failed') await screenshot(page, `failed-${this.currentTest.title.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
  });

  it('does not wait for Teams: initialize fails fast and the page works as the local user', async () => {
    const started = Date.now();
    await page.goto(`${t.url}/tab/`);
    await rendered(page);
    const elapsed = Date.now() - started;
    // teams-js rejects at once in a top-level window: the 2.5 s timer never runs out.
    const connected = await hostConnectedAt(page);
    assert.ok(connected >= 0 && connected < 1000, `knew it is not Teams after ${connected} ms`);
    assert.ok(elapsed < 5000, `rendered after ${elapsed} ms`);
    assert.equal(await page.locator('html').getAttribute('data-host'), 'browser');
    assert.match((await page.locator('#who').textContent()) ?? '', /Xenia Dubois · support engineer\s*local mode/);
    assert.deepEqual(errors, []);
  });

  it('shows the sample incidents as the store has them', async () => {
    const alerts = t.h.services.alerts!;
    const incidents = alerts.state.incidents({ states: ['open', 'acknowledged', 'escalated'] });
    const rows = page.locator('table.incidents tbody tr');
    assert.equal(await rows.count(), incidents.length);
    for (const i of incidents) {
      const row = page.locator(`tr[data-incident-id="${i.id}"]`);
      const rule = alerts.rules().find((r) => r.id === i.ruleId)!;
      assert.match((await row.locator('th').textContent()) ?? '', new RegExp(`#${i.id} ${rule.card.title.slice(0, 20)}`));
      assert.equal(Number(await row.locator('td[data-label="Affected users"]').textContent()), alerts.state.incidentUsers(i.id).length);
      assert.equal(await row.locator('td[data-label="First seen"] time').getAttribute('datetime'), new Date(i.firstSeen).toISOString());
    }
    assert.match((await page.locator('tr[data-incident-id="2"] td[data-label="First seen"]').textContent()) ?? '', /^Mon 8 Jun 10:46$/);
    await screenshot(page, 'incidents-light');
  });

  it('has landmarks, names and roles for screen readers', async () => {
    assert.equal(await page.getByRole('navigation', { name: 'Dashboard' }).count(), 1);
    assert.equal(await page.getByRole('link', { name: 'Incidents' }).getAttribute('aria-current'), 'page');
    assert.equal(await page.getByRole('search').count(), 1);
    assert.equal(await page.getByRole('searchbox', { name: 'Ask the logs' }).count(), 1);
    assert.equal(await page.getByRole('main').count(), 1);
    assert.equal(await page.getByRole('heading', { level: 1, name: 'Incidents' }).count(), 1);
    assert.equal(await page.getByRole('combobox', { name: 'Show' }).count(), 1);
    assert.equal(await page.getByRole('table', { name: 'Incidents, newest first' }).count(), 1);
    assert.equal(await page.getByRole('columnheader', { name: 'Affected users' }).count(), 1);
    assert.equal(await page.getByRole('rowheader', { name: /#2 Changing a Service Hours Adjustment/ }).count(), 1);
    assert.equal(await page.getByRole('button', { name: /^Acknowledge incident 2: Changing a Service Hours Adjustment/ }).count(), 1);
    assert.equal(await page.getByRole('button', { name: /^Resolve incident 2: / }).getAttribute('aria-haspopup'), 'dialog');
    assert.equal(await page.getByRole('status').count(), 1);
    const header = await page.locator('header').ariaSnapshot();
    const main = await page.locator('main').ariaSnapshot();
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'incidents-aria.yaml'), `${header}\n${main}\n`);
    assert.match(header, /- search:\n\s+- text: Ask the logs\n\s+- searchbox "Ask the logs"/);
    // (YAML quotes entries whose names contain a colon.)
    assert.match(main, /- '?row "#2 Changing a Service Hours Adjustment needs your supervisor forbidden-edit Open 9 Mon 8 Jun 10:46/);
    assert.match(main, /- '?button "Acknowledge incident 2: Changing a Service Hours Adjustment needs your supervisor"'?: Acknowledge/);
  });

  it('keyboard: Tab reaches the search box, the incident rows and their buttons; Enter acknowledges', async () => {
    await page.goto(`${t.url}/tab/`);
    await rendered(page);
    const stops: string[] = [];
    for (let i = 0; i < 14; i++) {
      await page.keyboard.press('Tab');
      stops.push(await focused(page));
    }
    const at = (pattern: RegExp) => stops.findIndex((s) => pattern.test(s));
    const order = [/^a: Skip to content/, /^a: Incidents/, /^input: input#q/, /^button: Ask/, /^select#state-filter/, /^a: #4 /, /^button: Acknowledge incident 4/, /^button: Resolve incident 4/, /^a: #3 /];
    const positions = order.map(at);
    assert.ok(positions.every((p) => p >= 0), `tab stops:\n${stops.join('\n')}`);
    assert.deepEqual([...positions].sort((a, b) => a - b), positions, `in reading order:\n${stops.join('\n')}`);

    const alerts = t.h.services.alerts!;
    const id = alerts.state.incidents({ ruleId: 'forbidden-edit' })[0]!.id;
    const pendingBefore = alerts.outbox.items({ incidentId: id, status: 'pending', limit: 1000 }).length;
    for (let i = 0; i < 20 && !(await focused(page)).startsWith(`button: Acknowledge incident ${id}`); i++) await page.keyboard.press('Tab');
    assert.match(await focused(page), new RegExp(`^button: Acknowledge incident ${id}:`));
    await page.keyboard.press('Enter');
    await page.locator('#status').filter({ hasText: `Incident ${id} acknowledged` }).waitFor();
    assert.equal(alerts.incidents.get(id)!.state, 'acknowledged');
    assert.equal(alerts.incidents.audit(id).at(-1)!.actorName, 'Xenia Dubois');
    // The incident card copies already sent are replaced through the outbox: updates queued.
    const updates = alerts.outbox.items({ incidentId: id, status: 'pending', limit: 1000 }).filter((i) => i.notification.recipient.updateActivityId);
    assert.ok(updates.length > pendingBefore, 'updates of the card copies are queued');
    for (const u of updates) assert.match(JSON.stringify(u.notification.card), /Acknowledged by Xenia Dubois/);
    // The row shows it, the button is gone, and focus stayed on the incident.
    const row = page.locator(`tr[data-incident-id="${id}"]`);
    await row.locator('.badge', { hasText: 'Acknowledged' }).waitFor();
    assert.equal(await row.getByRole('button', { name: /^Acknowledge/ }).count(), 0);
    assert.match(await focused(page), new RegExp(`^a: #${id} `));
    await screenshot(page, 'incidents-after-acknowledge');
  });

  it('keyboard: Enter opens an incident; the resolve dialog takes a message and tells the affected users', async () => {
    const alerts = t.h.services.alerts!;
    const id = alerts.state.incidents({ ruleId: 'ack-missing' })[0]!.id;
    await page.locator(`tr[data-incident-id="${id}"] a`).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`${t.url}/tab/incidents/${id}`);
    await rendered(page);
    assert.match(await focused(page), new RegExp(`^h1: #${id} Saving an entity`));
    assert.equal(await page.getByRole('table', { name: /^Affected users \(12\)$/ }).count(), 1);

    // Escape cancels: nothing changes, focus is back on the button.
    await page.getByRole('button', { name: new RegExp(`^Resolve incident ${id}:`) }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: `Resolve incident #${id}` });
    await dialog.waitFor();
    assert.equal(await focused(page), 'textarea: textarea#resolve-message: ');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(alerts.incidents.get(id)!.state, 'open');
    assert.match(await focused(page), new RegExp(`^button: Resolve incident ${id}:`));

    // At a person's pace: a key pressed within a frame of the dialog closing can be lost.
    await page.waitForTimeout(150);
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.keyboard.type('Fixed in 2.4.1: saving works again.');
    await screenshot(page, 'resolve-dialog');
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'button: Resolve incident');
    await page.keyboard.press('Enter');
    // The server's state first (the request may still be on its way), then what the page shows.
    for (let i = 0; i < 100 && alerts.incidents.get(id)!.state !== 'resolved'; i++) await page.waitForTimeout(100);
    assert.equal(alerts.incidents.get(id)!.state, 'resolved');
    await page.locator('#status').filter({ hasText: `Incident ${id} resolved. 12 affected users will be told` }).waitFor();
    const fixed = alerts.outbox.items({ incidentId: id, limit: 10_000 }).filter((i) => i.notification.idempotencyKey.startsWith(`fixed:${id}:`));
    assert.equal(fixed.length, 12);
    await page.locator('.badges .badge', { hasText: 'Resolved' }).waitFor();
    await page.getByRole('listitem').filter({ hasText: 'Xenia Dubois resolved: Fixed in 2.4.1' }).waitFor();
    await screenshot(page, 'incident-resolved');
  });

  it('draws the trend with the numbers the log store returns, and marks the release', async () => {
    await page.goto(`${t.url}/tab/trend`);
    await rendered(page);
    const chart = page.getByRole('img', { name: 'Events matching each rule per hour, last 72 hours' });
    await chart.waitFor();
    const rules = t.h.services.alerts!.rules();
    const heights: { count: number; height: number }[] = [];
    for (const rule of rules) {
      const expected = await storeHistogram(t, rule.filters, 72);
      const drawn = await drawnBars(page, rule.id);
      assert.deepEqual(drawn.counts, expected.counts, rule.id);
      assert.equal(Number(await page.locator(`.legend li[data-series="${rule.id}"]`).getAttribute('data-total')), expected.total, rule.id);
      heights.push(...drawn.heights);
    }
    assert.ok(heights.length > 10, 'the sample has bars to draw');
    // Heights are proportional to the counts: one scale for every bar.
    const scale = heights[0]!.height / heights[0]!.count;
    for (const h of heights) assert.ok(Math.abs(h.height / h.count - scale) < 1e-6, `${h.height} for ${h.count}`);
    // The release of Wednesday 06:00 (Berlin) is marked.
    const release = page.locator('svg.trend-chart g.release');
    assert.equal(await release.getAttribute('data-release'), new Date(RELEASE_AT).toISOString());
    assert.equal(await release.locator('text').textContent(), 'Release Wed 10 Jun 06:00');
    // The numbers are in a table too.
    await page.getByText('The numbers behind the chart').click();
    const row = page.locator('table.numbers tr[data-key="2020-06-10T13:00:00.000+02:00"]');
    assert.equal(await row.locator('th').textContent(), 'Wed 10 Jun 13:00');
    await screenshot(page, 'trend-by-rule');

    // By log, chosen with the keyboard.
    await page.locator('#by-rule').focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForURL(/by=dataset/);
    await rendered(page);
    await page.getByRole('img', { name: 'Errors of each log per hour, last 72 hours' }).waitFor();
    assert.match(await focused(page), /^input: input#by-dataset/);
    for (const dataset of ['api', 'auth']) {
      const expected = await storeHistogram(t, [{ op: 'in', field: 'log.level', values: ['error', 'fatal'] }, { op: 'eq', field: 'event.dataset', value: dataset }], 72);
      assert.deepEqual((await drawnBars(page, dataset)).counts, expected.counts, dataset);
    }
  });

  it('follows the theme: dark and high contrast, with the same content', async () => {
    await page.goto(`${t.url}/tab/trend?theme=dark`);
    await rendered(page);
    assert.equal(await style(page, 'html', 'backgroundColor'), 'rgb(31, 31, 31)');
    await screenshot(page, 'trend-dark');
    await page.goto(`${t.url}/tab/incidents/2?theme=contrast`);
    await rendered(page);
    assert.equal(await style(page, 'html', 'backgroundColor'), 'rgb(0, 0, 0)');
    assert.equal(await style(page, '.back a', 'color'), 'rgb(255, 255, 1)');
    await screenshot(page, 'incident-contrast');
    await page.goto(`${t.url}/tab/rules`);
    await rendered(page);
    assert.equal(await page.locator('table.rules tbody tr').count(), t.h.services.alerts!.rules().length);
    await screenshot(page, 'rules-light');
  });

  it("with no theme given, follows the browser's dark preference with the same colours as the dark theme", async () => {
    // The custom properties the dark theme declares, as computed on the page (a string: no DOM types here).
    const palette = () =>
      page.evaluate<Record<string, string>>(`(() => {
        const names = new Set();
        for (const sheet of document.styleSheets)
          for (const rule of sheet.cssRules)
            if (rule instanceof CSSStyleRule && rule.selectorText === ':root[data-theme="dark"]') for (const name of rule.style) names.add(name);
        const computed = getComputedStyle(document.documentElement);
        return Object.fromEntries([...names].map((n) => [n, computed.getPropertyValue(n).trim()]));
      })()`);
    await page.goto(`${t.url}/tab/trend?theme=dark`);
    await rendered(page);
    const dark = await palette();
    assert.ok(Object.keys(dark).length > 20, 'read the dark palette');
    await page.emulateMedia({ colorScheme: 'dark' });
    try {
      await page.goto(`${t.url}/tab/trend`);
      await rendered(page);
      assert.equal(await page.locator('html').getAttribute('data-theme'), null);
      assert.deepEqual(await palette(), dark);
    } finally {
      await page.emulateMedia({ colorScheme: 'light' });
    }
  });

  it('answers a question from the search box like the chat', async () => {
    await page.goto(`${t.url}/tab/`);
    await rendered(page);
    await page.getByRole('searchbox', { name: 'Ask the logs' }).fill('show errors for user 1087 today');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/tab\/ask\?q=show\+errors\+for\+user\+1087\+today/);
    await rendered(page);
    assert.match((await page.locator('.interpretation').textContent()) ?? '', /errors for user 1087, Fri 12 Jun 2020 00:00–16:30 Europe\/Berlin/);
    const sources = await page.locator('table.answer td.source').allTextContents();
    assert.deepEqual(sources, ['APP01/api/2020-06-12.log:878', 'APP01/api/2020-06-12.log:866']);
    await screenshot(page, 'answer');
    // Back returns to the incidents.
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'Incidents' }).waitFor();
  });

  it('in a frame nobody answers (not Teams), gives up after the timer and still works', async () => {
    await page.route(`${t.url}/__silent-host`, (route) =>
      route.fulfill({ contentType: 'text/html', body: `<!doctype html><title>host</title><iframe src="/tab/" title="Dashboard" width="1200" height="800"></iframe>` }),
    );
    await page.goto(`${t.url}/__silent-host`);
    const frame = page.frameLocator('iframe');
    await frame.locator('main[aria-busy="false"]').waitFor({ timeout: 10_000 });
    // Not 60 s (teams-js's own timeout): the page's 2.5 s timer.
    const connected = await hostConnectedAt(page.frames().find((f) => f.url().endsWith('/tab/'))!);
    assert.ok(connected >= 2500 && connected < 4000, `gave up on Teams after ${connected} ms`);
    assert.equal(await frame.locator('html').getAttribute('data-host'), 'browser');
    assert.match((await frame.locator('#who').textContent()) ?? '', /Xenia Dubois/);
  });

  it('left no errors in the console', () => {
    assert.deepEqual(errors, []);
  });
});

/**
 * A stand-in for Teams: a page that frames the tab and answers teams-js's messages the way Teams
 * does (legacy Teams without a runtime config: teams-js builds it from the version). Same origin as
 * the tab, which teams-js accepts as a host. `window.calls` records what the tab asked for.
 */
function teamsHost(options: { src: string; frameContext: 'content' | 'settings'; theme: string; token?: string; tokenError?: string; user: { aadObjectId: string } }): string {
  const config = JSON.stringify(options).replace(/</g, '\\u003c');
  return `<!doctype html><html><head><title>Teams (test host)</title></head><body style="margin:0">
<iframe id="tab" src="${options.src}" title="Support dashboard" style="width:1240px;height:880px;border:0"></iframe>
<script>
const config = ${config};
window.calls = [];
const frame = () => document.getElementById('tab').contentWindow;
window.sendToTab = (func, args) => frame().postMessage({ func, args }, '*');
window.addEventListener('message', (event) => {
  if (event.source !== frame() || !event.data || typeof event.data.func !== 'string') return;
  const m = event.data;
  window.calls.push({ func: m.func, args: m.args });
  const reply = (args) => frame().postMessage({ id: m.id, uuidAsString: m.uuidAsString, args }, '*');
  switch (m.func) {
    case 'initialize': return reply([config.frameContext, 'web', '2.0.0', '2.0.0']);
    case 'getContext': return reply([{ theme: config.theme, locale: 'en-us', entityId: 'dashboard', frameContext: config.frameContext, hostClientType: 'web', userObjectId: config.user.aadObjectId, tid: '9188040d-6c67-4c5b-b112-36a304b66dad', loginHint: 'someone@contoso.example', userPrincipalName: 'someone@contoso.example' }]);
    case 'authentication.getAuthToken': return config.token ? reply([true, config.token]) : reply([false, config.tokenError]);
    case 'settings.setSettings': return reply([true]);
  }
});
</script></body></html>`;
}

describe('tab in Chromium: hosted in Teams with SSO', function () {
  this.timeout(120_000);
  let t: TabServer;
  let browser: LaunchedBrowser;
  let page: Page;
  let errors: string[];

  before(async () => {
    t = await startTabServer({ mode: 'sso' });
    browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    errors = watchErrors(page);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  async function host(options: Parameters<typeof teamsHost>[0]): Promise<void> {
    await page.unroute(`${t.url}/__teams`);
    await page.route(`${t.url}/__teams`, (route) => route.fulfill({ contentType: 'text/html', body: teamsHost(options) }));
    await page.goto(`${t.url}/__teams`);
  }
  const calls = () => page.evaluate<{ func: string; args: unknown[] }[]>('window.calls');
  /** A message from the host to the tab (a theme change, the Save button). */
  const send = (func: string, args: unknown[]) => page.evaluate(`window.sendToTab(${JSON.stringify(func)}, ${JSON.stringify(args)})`);
  const tab = () => page.frames().find((f) => f.url().startsWith(`${t.url}/tab/`))!;

  it('initialises, takes the theme from the context, signs in with the SSO token and follows theme changes', async () => {
    const token = t.tokenFor(WHO.supervisor, { name: 'Ines Okafor' });
    const authorizations: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/tab/api/')) authorizations.push(r.headers().authorization ?? '');
    });
    await host({ src: '/tab/', frameContext: 'content', theme: 'dark', token, user: WHO.supervisor });
    const frame = page.frameLocator('#tab');
    await frame.locator('main[aria-busy="false"]').waitFor({ timeout: 10_000 });
    const connected = await hostConnectedAt(tab());
    assert.ok(connected >= 0 && connected < 1500, `connected to Teams after ${connected} ms (no waiting for the timer)`);
    assert.equal(await frame.locator('html').getAttribute('data-host'), 'teams');
    assert.equal(await frame.locator('html').getAttribute('data-theme'), 'dark');
    assert.match((await frame.locator('#who').textContent()) ?? '', /^Ines Okafor · supervisor$/);
    assert.ok(authorizations.length >= 2 && authorizations.every((a) => a === `Bearer ${token}`), 'every API request carries the token');
    const funcs = (await calls()).map((c) => c.func);
    for (const f of ['initialize', 'getContext', 'authentication.getAuthToken', 'registerHandler', 'appInitialization.success']) assert.ok(funcs.includes(f), `${f} in ${funcs.join(', ')}`);
    assert.ok(funcs.indexOf('getContext') > funcs.indexOf('initialize'), 'getContext only after initialize');
    await screenshot(page, 'teams-dark');

    await send('themeChange', ['contrast']);
    await frame.locator('html[data-theme="contrast"]').waitFor();
    await screenshot(page, 'teams-contrast');
    await send('themeChange', ['default']);
    await frame.locator('html[data-theme="default"]').waitFor();
  });

  it('acknowledges as the signed-in supervisor, through the SSO-authenticated API', async () => {
    const alerts = t.h.services.alerts!;
    const id = alerts.state.incidents({ ruleId: 'web-proxy' })[0]!.id;
    const frame = page.frameLocator('#tab');
    await frame.getByRole('button', { name: new RegExp(`^Acknowledge incident ${id}:`) }).click();
    await frame.locator('#status').filter({ hasText: `Incident ${id} acknowledged` }).waitFor();
    assert.equal(alerts.incidents.audit(id).at(-1)!.actorName, 'Ines Okafor');
  });

  it('shows a user only the search box, and their own events', async () => {
    await host({ src: '/tab/', frameContext: 'content', theme: 'default', token: t.tokenFor(WHO.user), user: WHO.user });
    const frame = tab();
    await rendered(frame);
    assert.equal(await frame.locator('#nav').isHidden(), true);
    assert.match((await frame.locator('h1').textContent()) ?? '', /Hello Paul Rossi/);
    await frame.getByRole('searchbox', { name: 'Ask the logs' }).fill('show errors this week');
    await frame.getByRole('button', { name: 'Ask' }).click();
    await frame.locator('table.answer').waitFor();
    const users = await frame.locator('table.answer td[data-label="User"]').allTextContents();
    assert.ok(users.length > 0 && users.every((u) => u === '1087 (p.rossi)'), users.join(', '));
    await frame.getByRole('searchbox', { name: 'Ask the logs' }).fill('show errors for user 1181 today');
    await frame.getByRole('button', { name: 'Ask' }).click();
    await frame.getByRole('heading', { name: 'Only your own activity' }).waitFor();
    await screenshot(page, 'teams-user-refused');
  });

  it('says what is wrong when the token is refused or Teams cannot sign in', async () => {
    await host({ src: '/tab/', frameContext: 'content', theme: 'default', token: t.tokenFor(WHO.support, { exp: Math.floor(Date.now() / 1000) - 3600 }), user: WHO.support });
    await rendered(tab());
    assert.match((await tab().locator('main').textContent()) ?? '', /Sign-in needed.*the token has expired/);
    await host({ src: '/tab/', frameContext: 'content', theme: 'default', tokenError: 'resourceRequiresConsent', user: WHO.support });
    await rendered(tab());
    assert.match((await tab().locator('main').textContent()) ?? '', /Teams could not sign you in to the dashboard \(resourceRequiresConsent\)/);
  });

  it('configuration page: valid at once, and Save gives Teams the dashboard address', async () => {
    await host({ src: '/tab/configure', frameContext: 'settings', theme: 'default', user: WHO.support });
    await tab().locator('#config-status', { hasText: 'Ready' }).waitFor({ timeout: 10_000 });
    let seen = await calls();
    assert.deepEqual(seen.find((c) => c.func === 'settings.setValidityState')?.args, [true]);
    await send('settings.save', [{}]);
    for (let i = 0; i < 50 && !(await calls()).some((c) => c.func === 'settings.save.success'); i++) await page.waitForTimeout(50);
    seen = await calls();
    const settings = seen.find((c) => c.func === 'settings.setSettings')?.args[0] as Record<string, string>;
    assert.equal(settings.contentUrl, `${t.url}/tab/`);
    assert.equal(settings.entityId, 'dashboard');
    assert.ok(seen.some((c) => c.func === 'settings.save.success'), seen.map((c) => c.func).join(', '));
    await screenshot(page, 'teams-configure');
  });

  it('opened outside Teams, says to open it in Teams (and does not hang)', async () => {
    await page.goto(`${t.url}/tab/`);
    await rendered(page);
    assert.ok((await hostConnectedAt(page)) < 1000);
    assert.match((await page.locator('main').textContent()) ?? '', /Sign-in needed.*Open the Support Bot app in Microsoft Teams/);
    assert.deepEqual(errors.filter((e) => !/401|403/.test(e)), []);
  });
});
