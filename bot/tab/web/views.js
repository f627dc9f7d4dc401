// @ts-check
/**
 * The dashboard's views: incidents, one incident, rules, trend, and answers to the search box.
 * Each fetches its data, builds its DOM (text nodes only, see dom.js) and puts it in <main>.
 * Keyboard: everything that acts is a real link or button in reading order; the heading of a new
 * view takes focus (app.js) so a screen reader starts reading there.
 */
import { ApiError } from './api.js';
import { trendChart, trendLegend, trendTable } from './chart.js';
import { h, hidden, replace } from './dom.js';
import { formatTime, plural, timeElement } from './format.js';

/**
 * @typedef {object} Me
 * @property {string} userId
 * @property {string} name
 * @property {string} role
 * @property {string} roleName
 * @property {boolean} staff
 * @property {'sso' | 'local'} via
 * @property {string} timeZone
 * @property {string} now
 * @property {boolean} alerts
 * @property {string} [releaseAt]
 */
/**
 * @typedef {object} IncidentSummary
 * @property {number} id
 * @property {string} ruleId
 * @property {string} title
 * @property {'open' | 'acknowledged' | 'escalated' | 'resolved'} state
 * @property {{ name: string, at: string, action: string, note?: string }} [stateBy]
 * @property {string} [snoozedUntil]
 * @property {string} openedAt
 * @property {string} firstSeen
 * @property {string} lastSeen
 * @property {number} events
 * @property {number} affectedUsers
 * @property {{ helped: number, notWorking: number }} feedback
 * @property {{ acknowledge: boolean, resolve: boolean }} actions
 */
/** @typedef {{ items: IncidentSummary[], total: number, next: string | null }} IncidentList */
/** @typedef {{ userId: string, name?: string, login?: string, firstSeen: string, lastSeen: string, events: number, summary: string, feedback: 'helped' | 'not-working' | null, delivery: string }} AffectedUser */
/** @typedef {{ at: string, actor: string, action: string, detail?: string }} AuditEntry */
/** @typedef {IncidentSummary & { description: string, users: AffectedUser[], audit: AuditEntry[] }} IncidentDetail */
/**
 * @typedef {object} RuleSummary
 * @property {string} id
 * @property {string} description
 * @property {boolean} enabled
 * @property {string} type
 * @property {string | null} lastRun
 * @property {{ active: number, total: number }} incidents
 * @property {number} matchedUsers
 * @property {number} matchedEvents
 * @property {number} notificationsSent
 * @property {number} cardUpdates
 * @property {{ userId: string, name: string, reason: string }[]} unreachableUsers
 */
/** @typedef {{ items: RuleSummary[], total: number, next: string | null }} RuleList */
/** @typedef {{ ok: true, text: string, incident: IncidentSummary }} ActionResult */
/** @typedef {{ time: string, level: string, levelColor: string, user: string, message: string, source: string }} ListRow */
/** @typedef {{ question: string, interpretation: string, notes: string[] }} AnswerBase */
/** @typedef {{ name: 'answer-list', data: AnswerBase & { summary: string, timeZone: string, rows: ListRow[] } }} ListCard */
/** @typedef {{ name: 'answer-chart', data: AnswerBase & { summary: string, chartTitle: string, xAxisTitle: string, yAxisTitle: string, rows: { key: string, count: number }[], other: string } }} ChartCard */
/** @typedef {{ name: 'answer-count', data: AnswerBase & { total: number } }} CountCard */
/**
 * What GET /tab/api/ask answers with status 200 (refusals come as errors: 403, 503).
 * @typedef {{ outcome: 'answered', card: ListCard | ChartCard | CountCard, next: string | null, timeZone: string, now: string }
 *   | { outcome: 'not-understood', data: { question: string, problems: string[], examples: string[] } }
 *   | { outcome: 'too-much', notice: { title: string, text: string } }} AskAnswer
 */
/**
 * @typedef {object} NavigateOptions
 * @property {boolean} [replace] replace the history entry (a filter change) instead of adding one
 * @property {string} [focus] a selector to focus after rendering instead of the heading
 */
/**
 * @typedef {object} ViewContext
 * @property {import('./api.js').Api} api
 * @property {Me} me
 * @property {HTMLElement} main
 * @property {(url: string, options?: NavigateOptions) => void} navigate
 * @property {(options?: NavigateOptions) => Promise<void>} rerender
 * @property {(text: string, kind?: 'info' | 'error') => void} announce
 * @property {(incident: IncidentSummary) => Promise<string | undefined>} askResolve opens the resolve dialog; the outcome text when resolved
 * @property {(cleanup: () => void) => void} onLeave runs when another view replaces this one
 */

const STATE_NAMES = { open: 'Open', acknowledged: 'Acknowledged', escalated: 'Escalated', resolved: 'Resolved' };

/**
 * @param {IncidentSummary['state']} state
 */
function stateBadge(state) {
  return h('span', { class: `badge state-${state}` }, STATE_NAMES[state] ?? state);
}

/**
 * @param {string} title
 * @param {...import('./dom.js').Child} rest
 */
function heading(title, ...rest) {
  return h('h1', { tabindex: '-1', class: 'view-title' }, title, ...rest);
}

/**
 * An error where the view would be: what happened, and a way to try again.
 * @param {ViewContext} ctx
 * @param {unknown} err
 */
export function errorView(ctx, err) {
  const message = err instanceof Error ? err.message : String(err);
  const title = err instanceof ApiError && err.status === 403 ? 'Not for your role' : err instanceof ApiError && err.status === 401 ? 'Sign-in needed' : 'Could not load this';
  replace(
    ctx.main,
    heading(title),
    h('div', { class: 'notice attention', role: 'alert' }, h('p', {}, message)),
    h('p', {}, h('button', { type: 'button', class: 'button', onclick: () => void ctx.rerender() }, 'Try again')),
  );
}

/**
 * Acknowledge from a row or the incident page; the card copies follow through the outbox.
 * @param {ViewContext} ctx
 * @param {IncidentSummary} incident
 * @param {string} focusAfter
 */
async function acknowledge(ctx, incident, focusAfter) {
  try {
    const result = /** @type {ActionResult} */ (await ctx.api.post(`/tab/api/incidents/${incident.id}/acknowledge`, {}));
    ctx.announce(String(result.text));
    await ctx.rerender({ focus: focusAfter });
  } catch (err) {
    ctx.announce(err instanceof Error ? err.message : String(err), 'error');
  }
}

/**
 * @param {ViewContext} ctx
 * @param {IncidentSummary} incident
 * @param {string} focusAfter
 */
async function resolveIncident(ctx, incident, focusAfter) {
  const text = await ctx.askResolve(incident);
  if (text === undefined) return;
  ctx.announce(text);
  await ctx.rerender({ focus: focusAfter });
}

/**
 * The buttons a person may use on an incident (the server says which).
 * @param {ViewContext} ctx
 * @param {IncidentSummary} incident
 * @param {string} focusAfter where focus goes once the list or page shows the change
 */
function actionButtons(ctx, incident, focusAfter) {
  const buttons = [];
  if (incident.actions.acknowledge) {
    buttons.push(
      h(
        'button',
        { type: 'button', class: 'button', 'data-action': 'acknowledge', 'aria-label': `Acknowledge incident ${incident.id}: ${incident.title}`, onclick: () => void acknowledge(ctx, incident, focusAfter) },
        'Acknowledge',
      ),
    );
  }
  if (incident.actions.resolve) {
    buttons.push(
      h(
        'button',
        { type: 'button', class: 'button', 'data-action': 'resolve', 'aria-haspopup': 'dialog', 'aria-label': `Resolve incident ${incident.id}: ${incident.title}`, onclick: () => void resolveIncident(ctx, incident, focusAfter) },
        'Resolve…',
      ),
    );
  }
  return buttons.length ? h('div', { class: 'actions' }, ...buttons) : null;
}

/**
 * "Acknowledged by Ines Okafor, Fri 12 Jun 16:31".
 * @param {IncidentSummary} incident
 * @param {string} zone
 */
function stateLine(incident, zone) {
  const parts = [];
  if (incident.stateBy && incident.state !== 'open') parts.push(`by ${incident.stateBy.name}, ${formatTime(incident.stateBy.at, zone)}`);
  if (incident.snoozedUntil) parts.push(`snoozed until ${formatTime(incident.snoozedUntil, zone)}`);
  return parts.length ? h('span', { class: 'state-by' }, parts.join('; ')) : null;
}

/**
 * @param {IncidentSummary['feedback']} f
 */
function feedbackText(f) {
  if (!f.helped && !f.notWorking) return h('span', { class: 'subtle' }, 'none yet');
  return h('span', {}, `${f.helped} helped · ${f.notWorking} still not working`);
}

/**
 * Previous/next links of a paginated list.
 * @param {URL} url
 * @param {number} offset
 * @param {number} limit
 * @param {number} total
 * @param {number} shown
 * @param {string} label
 */
function pager(url, offset, limit, total, shown, label) {
  if (total <= limit && offset === 0) return null;
  const at = (/** @type {number} */ o) => {
    const u = new URL(url.href);
    u.searchParams.set('offset', String(o));
    return `${u.pathname}${u.search}`;
  };
  return h(
    'nav',
    { class: 'pager', 'aria-label': `${label} pages` },
    offset > 0 ? h('a', { href: at(Math.max(0, offset - limit)), class: 'button' }, 'Previous') : null,
    h('span', {}, `${offset + 1}–${offset + shown} of ${total}`),
    offset + shown < total ? h('a', { href: at(offset + limit), class: 'button' }, 'Next') : null,
  );
}

/**
 * The incident list.
 * @param {ViewContext} ctx
 * @param {URL} url
 */
export async function incidentsView(ctx, url) {
  const state = url.searchParams.get('state') ?? 'active';
  const offset = Math.max(0, Number(url.searchParams.get('offset') ?? 0) || 0);
  const limit = 20;
  const data = /** @type {IncidentList} */ (await ctx.api.get(`/tab/api/incidents?${new URLSearchParams({ state, limit: String(limit), offset: String(offset) })}`));
  const items = data.items;
  const zone = ctx.me.timeZone;
  const filter = h(
    'select',
    { id: 'state-filter', name: 'state' },
    ...[
      ['active', 'Active (open, acknowledged, escalated)'],
      ['all', 'All'],
      ['open', 'Open'],
      ['acknowledged', 'Acknowledged'],
      ['escalated', 'Escalated'],
      ['resolved', 'Resolved'],
    ].map(([value, text]) => h('option', { value, selected: value === state }, text)),
  );
  filter.addEventListener('change', () => ctx.navigate(`/tab/?state=${encodeURIComponent(filter.value)}`, { replace: true, focus: '#state-filter' }));
  const rows = items.map((i) =>
    h(
      'tr',
      { 'data-incident-id': i.id },
      h('th', { scope: 'row', 'data-label': 'Incident' }, h('a', { href: `/tab/incidents/${i.id}`, class: 'incident-link' }, h('span', { class: 'incident-id' }, `#${i.id}`), ' ', i.title), h('span', { class: 'rule-id' }, i.ruleId)),
      h('td', { 'data-label': 'State' }, stateBadge(i.state), stateLine(i, zone)),
      h('td', { class: 'num', 'data-label': 'Affected users' }, i.affectedUsers),
      h('td', { 'data-label': 'First seen' }, timeElement(i.firstSeen, zone)),
      h('td', { 'data-label': 'Last seen' }, timeElement(i.lastSeen, zone)),
      h('td', { 'data-label': 'Feedback' }, feedbackText(i.feedback)),
      h('td', { 'data-label': 'Actions' }, actionButtons(ctx, i, `[data-incident-id="${i.id}"] .incident-link`) ?? h('span', { class: 'subtle' }, '—')),
    ),
  );
  const what = state === 'active' ? 'active' : state === 'all' ? '' : state;
  replace(
    ctx.main,
    heading('Incidents'),
    h('div', { class: 'toolbar' }, h('label', { for: 'state-filter' }, 'Show'), filter),
    h('p', { class: 'summary', id: 'incidents-summary' }, `${plural(data.total, `${what ? `${what} ` : ''}incident`)}. Times in ${zone}.`),
    items.length
      ? h(
          'table',
          { class: 'grid incidents', 'aria-describedby': 'incidents-summary' },
          h('caption', { class: 'visually-hidden' }, 'Incidents, newest first'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Incident', 'State', 'Affected users', 'First seen', 'Last seen', 'Feedback', 'Actions'].map((t) => h('th', { scope: 'col', class: t === 'Affected users' ? 'num' : null }, t)),
            ),
          ),
          h('tbody', {}, ...rows),
        )
      : h('p', { class: 'empty-state' }, state === 'active' ? 'Nothing known is hitting anyone right now.' : 'No incidents here.'),
    pager(url, offset, limit, data.total, items.length, 'Incident list'),
  );
}

/**
 * One incident: facts, actions, affected users, history.
 * @param {ViewContext} ctx
 * @param {URL} url
 * @param {string} id
 */
export async function incidentView(ctx, url, id) {
  void url;
  const i = /** @type {IncidentDetail} */ (await ctx.api.get(`/tab/api/incidents/${encodeURIComponent(id)}`));
  const zone = ctx.me.timeZone;
  const { users, audit } = i;
  const fact = (/** @type {string} */ term, /** @type {import('./dom.js').Child} */ value) => h('div', { class: 'fact' }, h('dt', {}, term), h('dd', {}, value));
  replace(
    ctx.main,
    h('p', { class: 'back' }, h('a', { href: '/tab/' }, '← All incidents')),
    heading(`#${i.id} ${i.title}`),
    h('p', { class: 'badges' }, stateBadge(i.state), ' ', stateLine(i, zone), ' ', h('span', { class: 'rule-id' }, `rule ${i.ruleId}`)),
    i.description ? h('p', { class: 'description' }, i.description) : null,
    actionButtons(ctx, i, 'h1'),
    h(
      'dl',
      { class: 'facts' },
      fact('First seen', timeElement(i.firstSeen, zone)),
      fact('Last seen', timeElement(i.lastSeen, zone)),
      fact('Opened', timeElement(i.openedAt, zone)),
      fact('Events', i.events),
      fact('Affected users', i.affectedUsers),
      fact('Feedback', feedbackText(i.feedback)),
    ),
    h('h2', { id: 'users-title' }, `Affected users (${users.length})`),
    users.length
      ? h(
          'table',
          { class: 'grid users', 'aria-labelledby': 'users-title' },
          h('thead', {}, h('tr', {}, ...['User', 'First seen', 'Last seen', 'Events', 'What happened first', 'Workaround', 'Feedback'].map((t) => h('th', { scope: 'col', class: t === 'Events' ? 'num' : null }, t)))),
          h(
            'tbody',
            {},
            ...users.map((u) =>
              h(
                'tr',
                { 'data-user-id': u.userId },
                h('th', { scope: 'row', 'data-label': 'User' }, u.name ? `${u.name} (${u.userId})` : `user ${u.userId}`),
                h('td', { 'data-label': 'First seen' }, timeElement(u.firstSeen, zone)),
                h('td', { 'data-label': 'Last seen' }, timeElement(u.lastSeen, zone)),
                h('td', { class: 'num', 'data-label': 'Events' }, u.events),
                h('td', { 'data-label': 'What happened first' }, u.summary || '—'),
                h('td', { 'data-label': 'Workaround' }, u.delivery),
                h('td', { 'data-label': 'Feedback' }, u.feedback === 'helped' ? 'This helped' : u.feedback === 'not-working' ? h('strong', {}, 'Still not working') : h('span', { class: 'subtle' }, '—')),
              ),
            ),
          ),
        )
      : h('p', {}, 'Nobody yet.'),
    h('h2', {}, 'History'),
    h(
      'ol',
      { class: 'audit' },
      ...audit.map((e) => h('li', {}, timeElement(e.at, zone), ' ', h('strong', {}, e.actor), ' ', e.action, e.detail ? h('span', { class: 'detail' }, `: ${e.detail}`) : null)),
    ),
  );
}

/**
 * The alert rules and what they did.
 * @param {ViewContext} ctx
 * @param {URL} url
 */
export async function rulesView(ctx, url) {
  const offset = Math.max(0, Number(url.searchParams.get('offset') ?? 0) || 0);
  const limit = 50;
  const data = /** @type {RuleList} */ (await ctx.api.get(`/tab/api/rules?${new URLSearchParams({ limit: String(limit), offset: String(offset) })}`));
  const rules = data.items;
  const zone = ctx.me.timeZone;
  replace(
    ctx.main,
    heading('Rules'),
    h('p', { class: 'summary', id: 'rules-summary' }, `${plural(data.total, 'alert rule')}. Times in ${zone}.`),
    h(
      'table',
      { class: 'grid rules', 'aria-describedby': 'rules-summary' },
      h('caption', { class: 'visually-hidden' }, 'Alert rules'),
      h(
        'thead',
        {},
        h('tr', {}, ...['Rule', 'Enabled', 'Last run', 'Incidents', 'Matched users', 'Matched events', 'Notifications sent', 'Unreachable users'].map((t, n) => h('th', { scope: 'col', class: n >= 3 ? 'num' : null }, t))),
      ),
      h(
        'tbody',
        {},
        ...rules.map((r) =>
          h(
            'tr',
            { 'data-rule-id': r.id },
            h('th', { scope: 'row', 'data-label': 'Rule' }, h('span', { class: 'rule-name' }, r.id), h('span', { class: 'rule-description' }, r.description)),
            h('td', { 'data-label': 'Enabled' }, r.enabled ? h('span', { class: 'badge state-resolved' }, 'On') : h('span', { class: 'badge muted' }, 'Off')),
            h('td', { 'data-label': 'Last run' }, r.lastRun ? timeElement(r.lastRun, zone) : h('span', { class: 'subtle' }, 'not yet')),
            h('td', { class: 'num', 'data-label': 'Incidents' }, `${r.incidents.active} active`, h('span', { class: 'subtle' }, ` of ${r.incidents.total}`)),
            h('td', { class: 'num', 'data-label': 'Matched users' }, r.matchedUsers),
            h('td', { class: 'num', 'data-label': 'Matched events' }, r.matchedEvents),
            h('td', { class: 'num', 'data-label': 'Notifications sent' }, r.notificationsSent, r.cardUpdates ? h('span', { class: 'subtle' }, ` + ${plural(r.cardUpdates, 'card update')}`) : null),
            h(
              'td',
              { class: 'num', 'data-label': 'Unreachable users' },
              r.unreachableUsers.length
                ? h(
                    'details',
                    {},
                    h('summary', {}, h('strong', {}, r.unreachableUsers.length), hidden(` unreachable users of ${r.id}`)),
                    h('ul', { class: 'plain' }, ...r.unreachableUsers.map((u) => h('li', {}, `${u.name} (${u.userId}): ${u.reason}`))),
                  )
                : '0',
            ),
          ),
        ),
      ),
    ),
    pager(url, offset, limit, data.total, rules.length, 'Rule list'),
  );
}

/**
 * Events per hour, per rule or per log, with the release marked.
 * @param {ViewContext} ctx
 * @param {URL} url
 */
export async function trendView(ctx, url) {
  const by = url.searchParams.get('by') === 'dataset' ? 'dataset' : 'rule';
  const hours = ['24', '72', '168', '336'].includes(url.searchParams.get('hours') ?? '') ? Number(url.searchParams.get('hours')) : 72;
  const trend = /** @type {import('./chart.js').Trend} */ (await ctx.api.get(`/tab/api/trend?${new URLSearchParams({ by, hours: String(hours) })}`));
  const go = (/** @type {string} */ nextBy, /** @type {number} */ nextHours, /** @type {string} */ focus) =>
    ctx.navigate(`/tab/trend?${new URLSearchParams({ by: nextBy, hours: String(nextHours) })}`, { replace: true, focus });
  const radio = (/** @type {string} */ value, /** @type {string} */ text) =>
    h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'by', id: `by-${value}`, value, checked: value === by, onchange: () => go(value, hours, `#by-${value}`) }), text);
  const period = h(
    'select',
    { id: 'hours' },
    ...[
      [24, 'Last 24 hours'],
      [72, 'Last 3 days'],
      [168, 'Last 7 days'],
      [336, 'Last 14 days'],
    ].map(([value, text]) => h('option', { value, selected: value === hours }, text)),
  );
  period.addEventListener('change', () => go(by, Number(period.value), '#hours'));
  const release = trend.releaseAt ? ` The dashed line marks the release, ${formatTime(trend.releaseAt, trend.timeZone)}.` : '';
  const figure = h(
    'figure',
    { class: 'chart' },
    h('figcaption', { id: 'trend-caption' }, `${by === 'rule' ? 'Events matching each alert rule' : 'Errors of each log'} per hour, ${formatTime(trend.from, trend.timeZone)} to ${formatTime(trend.to, trend.timeZone)} (${trend.timeZone}).${release}`),
  );
  replace(
    ctx.main,
    heading('Trend'),
    h(
      'form',
      { class: 'toolbar', onsubmit: (/** @type {Event} */ e) => e.preventDefault() },
      h('fieldset', { class: 'choices' }, h('legend', {}, 'Series'), radio('rule', 'By rule'), radio('dataset', 'By log')),
      h('span', { class: 'field' }, h('label', { for: 'hours' }, 'Period'), period),
    ),
    figure,
    trendLegend(trend),
    h('details', { class: 'numbers' }, h('summary', {}, 'The numbers behind the chart'), trendTable(trend)),
  );
  // Drawn at the width it gets, so its text stays readable; again when that width changes.
  const draw = () => {
    const width = Math.max(480, Math.floor(figure.clientWidth));
    const old = figure.querySelector('svg');
    if (old && Number(old.getAttribute('width')) === width) return;
    const svg = trendChart(trend, width);
    if (old) old.replaceWith(svg);
    else figure.append(svg);
  };
  draw();
  const observer = new ResizeObserver(() => draw());
  observer.observe(figure);
  ctx.onLeave(() => observer.disconnect());
}

/**
 * The answer table of a list answer.
 * @param {{ time: string, level: string, levelColor: string, user: string, message: string, source: string }[]} rows
 */
function answerRows(rows) {
  return rows.map((r) =>
    h(
      'tr',
      {},
      h('td', { 'data-label': 'Time' }, r.time),
      h('td', { 'data-label': 'Level' }, h('span', { class: `badge level-${r.levelColor}` }, r.level)),
      h('td', { 'data-label': 'User' }, r.user),
      h('td', { 'data-label': 'Message' }, r.message),
      h('td', { 'data-label': 'Source', class: 'source' }, r.source),
    ),
  );
}

/**
 * The answer to a search-box question: the same answer (and the same refusals) as the chat.
 * @param {ViewContext} ctx
 * @param {URL} url
 */
export async function askView(ctx, url) {
  const q = (url.searchParams.get('q') ?? '').trim();
  if (!q) {
    replace(ctx.main, heading('Ask the logs'), h('p', {}, 'Type a question in the search box, for example "show errors for user 1087 today" or "count failed logins by hour yesterday".'));
    return;
  }
  /** @type {AskAnswer} */
  let answer;
  try {
    answer = /** @type {AskAnswer} */ (await ctx.api.get(`/tab/api/ask?${new URLSearchParams({ q })}`));
  } catch (err) {
    if (err instanceof ApiError && (err.status === 403 || err.status === 503) && typeof err.body.title === 'string') {
      replace(ctx.main, heading('Answer'), h('p', { class: 'question' }, `“${q}”`), h('div', { class: `notice ${err.status === 403 ? 'attention' : 'warning'}`, role: 'alert' }, h('h2', {}, err.body.title), h('p', {}, err.message)));
      return;
    }
    throw err;
  }
  /** @type {import('./dom.js').Child[]} */
  const parts = [heading('Answer'), h('p', { class: 'question' }, `“${q}”`)];
  if (answer.outcome === 'not-understood') {
    const d = answer.data;
    parts.push(
      h('div', { class: 'notice warning' }, h('h2', {}, 'I did not understand all of that'), h('ul', {}, ...d.problems.map((/** @type {string} */ p) => h('li', {}, p)))),
      d.examples.length ? h('h2', {}, 'Try for example') : null,
      h('ul', { class: 'examples' }, ...d.examples.map((/** @type {string} */ e) => h('li', {}, h('a', { href: `/tab/ask?${new URLSearchParams({ q: e })}` }, e)))),
    );
  } else if (answer.outcome === 'too-much') {
    parts.push(h('div', { class: 'notice warning', role: 'alert' }, h('h2', {}, answer.notice.title), h('p', {}, answer.notice.text)));
  } else {
    const card = answer.card;
    parts.push(h('p', { class: 'interpretation' }, h('span', { class: 'subtle' }, 'Understood: '), card.data.interpretation));
    if (card.name === 'answer-count') {
      const d = card.data;
      parts.push(h('p', { class: 'big-number', 'data-total': d.total }, d.total.toLocaleString('en-US'), h('span', { class: 'big-number-unit' }, d.total === 1 ? ' event' : ' events')));
    } else if (card.name === 'answer-chart') {
      const d = card.data;
      const max = Math.max(1, ...d.rows.map((/** @type {{ count: number }} */ r) => r.count));
      parts.push(
        h('p', { class: 'summary' }, d.summary),
        h(
          'table',
          { class: 'grid bars' },
          h('caption', { class: 'visually-hidden' }, d.chartTitle),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, d.xAxisTitle), h('th', { scope: 'col' }, hidden('Bar')), h('th', { scope: 'col', class: 'num' }, d.yAxisTitle))),
          h(
            'tbody',
            {},
            ...d.rows.map((/** @type {{ key: string, count: number }} */ r) => {
              const bar = h('span', { class: 'bar-fill' });
              // CSSOM, not a style attribute: the page's CSP allows no inline styles.
              bar.style.width = `${(r.count / max) * 100}%`;
              return h('tr', { 'data-key': r.key }, h('th', { scope: 'row' }, r.key), h('td', { class: 'bar-cell', 'aria-hidden': 'true' }, bar), h('td', { class: 'num' }, r.count));
            }),
          ),
        ),
        d.other ? h('p', { class: 'subtle' }, d.other) : null,
      );
    } else {
      const d = card.data;
      const tbody = h('tbody', {}, ...answerRows(d.rows));
      const summary = h('p', { class: 'summary', id: 'answer-summary' }, d.summary);
      parts.push(
        summary,
        d.rows.length
          ? h(
              'table',
              { class: 'grid answer', 'aria-describedby': 'answer-summary' },
              h('thead', {}, h('tr', {}, ...[`Time (${d.timeZone})`, 'Level', 'User', 'Message', 'Source'].map((t) => h('th', { scope: 'col' }, t)))),
              tbody,
            )
          : null,
      );
      /** @type {string | null} */
      let next = answer.next;
      if (next) {
        let shown = d.rows.length;
        const more = h('button', { type: 'button', class: 'button', id: 'answer-more' }, 'Show more');
        more.addEventListener('click', async () => {
          if (!next) return;
          more.disabled = true;
          try {
            const page = /** @type {{ card: ListCard, next: string | null }} */ (await ctx.api.get(next));
            tbody.append(...answerRows(page.card.data.rows));
            shown += page.card.data.rows.length;
            next = page.next;
            summary.textContent = `${page.card.data.summary.split(',')[0]}, 1–${shown} shown (newest first)`;
            ctx.announce(`${plural(page.card.data.rows.length, 'more event')} shown.`);
            if (!next) more.remove();
          } catch (err) {
            ctx.announce(err instanceof Error ? err.message : String(err), 'error');
          } finally {
            more.disabled = false;
          }
        });
        parts.push(h('p', {}, more));
      }
    }
    const notes = card.data.notes;
    if (notes.length) parts.push(h('ul', { class: 'notes' }, ...notes.map((n) => h('li', {}, n))));
  }
  replace(ctx.main, ...parts);
}
