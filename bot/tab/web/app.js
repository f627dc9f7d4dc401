// @ts-check
/**
 * The dashboard page: connect to Teams (or find it is not there, quickly), learn who is signed in,
 * then show the view the address names. Links inside the dashboard change the view without
 * reloading (history.pushState), so Teams keeps the tab and the token; back and forward work.
 */
import { ApiError, createApi } from './api.js';
import { h, replace } from './dom.js';
import { applyTheme, connectHost, normalizeTheme } from './host.js';
import { askView, errorView, incidentsView, incidentView, rulesView, trendView } from './views.js';

/** @typedef {import('./views.js').ViewContext} ViewContext */
/** @typedef {import('./views.js').NavigateOptions} NavigateOptions */

/**
 * @template {Element} T
 * @param {string} id
 * @returns {T}
 */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return /** @type {T} */ (/** @type {unknown} */ (el));
}

async function main() {
  const params = new URLSearchParams(location.search);
  const themeParam = params.get('theme');
  applyTheme(themeParam ? normalizeTheme(themeParam) : undefined);
  const mainEl = /** @type {HTMLElement} */ (byId('main'));
  const status = /** @type {HTMLElement} */ (byId('status'));

  const host = await connectHost();
  // How long finding (or not finding) Teams took: visible in the browser's performance timeline.
  performance.mark('supportbot:host-connected', { detail: { inTeams: host.inTeams } });
  if (host.inTeams) {
    applyTheme(host.theme);
    host.onThemeChange((theme) => applyTheme(theme));
  } else {
    console.info(`Support dashboard: not in Teams (${host.reason}); acting as the local user.`);
  }
  document.documentElement.dataset.host = host.inTeams ? 'teams' : 'browser';
  const api = createApi(host.inTeams ? host.getToken : undefined);

  /** @type {import('./views.js').Me} */
  let me;
  try {
    me = /** @type {import('./views.js').Me} */ (await api.get('/tab/api/me'));
  } catch (err) {
    const notTeams = err instanceof ApiError && err.status === 401 && !host.inTeams;
    replace(
      mainEl,
      h('h1', { tabindex: '-1' }, err instanceof ApiError && err.status === 403 ? 'The dashboard is not available to you' : 'Sign-in needed'),
      h('div', { class: 'notice attention', role: 'alert' }, h('p', {}, err instanceof Error ? err.message : String(err)), notTeams ? h('p', {}, 'Open the Support Bot app in Microsoft Teams and choose its Dashboard tab.') : null),
    );
    mainEl.setAttribute('aria-busy', 'false');
    if (host.inTeams) host.notifySuccess();
    return;
  }

  replace(
    byId('who'),
    h('span', { class: 'who-name' }, me.name),
    h('span', { class: 'who-role' }, ` · ${me.roleName}`),
    me.via === 'local' ? h('span', { class: 'badge muted', title: 'The bot runs without sign-in on this machine' }, 'local mode') : null,
  );
  const nav = /** @type {HTMLElement} */ (byId('nav'));
  nav.hidden = !me.staff;
  const search = /** @type {HTMLFormElement} */ (byId('search'));
  search.hidden = false;
  const input = /** @type {HTMLInputElement} */ (byId('q'));

  /** @type {(() => void)[]} */
  let cleanups = [];
  /** @type {ViewContext} */
  const ctx = {
    api,
    me,
    main: mainEl,
    navigate: (url, options = {}) => {
      if (options.replace) history.replaceState(null, '', url);
      else {
        history.pushState(null, '', url);
        // A message about the last view's action does not belong to the next one.
        status.textContent = '';
      }
      void render(options.focus ?? 'h1');
    },
    rerender: (options = {}) => render(options.focus ?? null),
    announce: (text, kind = 'info') => {
      status.className = `status ${kind}`;
      // Emptied first so the same text twice is read twice.
      status.textContent = '';
      setTimeout(() => (status.textContent = text), 50);
    },
    askResolve: (incident) => askResolve(api, incident),
    onLeave: (cleanup) => cleanups.push(cleanup),
  };

  /**
   * Shows the view of the current address; then focuses `focus` (a selector), if given.
   * @param {string | null} focus
   */
  async function render(focus) {
    for (const cleanup of cleanups) cleanup();
    cleanups = [];
    const url = new URL(location.href);
    const path = url.pathname.replace(/\/+$/, '/') || '/tab/';
    for (const link of nav.querySelectorAll('a')) {
      const view = link.dataset.view;
      const current = (view === 'incidents' && (path === '/tab/' || path.startsWith('/tab/incidents/'))) || (view !== 'incidents' && path === `/tab/${view}`);
      if (current) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    if (path === '/tab/ask') input.value = url.searchParams.get('q') ?? '';
    mainEl.setAttribute('aria-busy', 'true');
    try {
      const incident = /^\/tab\/incidents\/([^/]+)$/.exec(path);
      if (!me.staff && path !== '/tab/ask') {
        replace(
          mainEl,
          h('h1', { tabindex: '-1' }, `Hello ${me.name}`),
          h('p', {}, 'Incidents, rules and trends are for supervisors and support. Ask about your own problems in the search box above, for example "what went wrong for me today?".'),
        );
      } else if (incident) await incidentView(ctx, url, incident[1] ?? '');
      else if (path === '/tab/rules') await rulesView(ctx, url);
      else if (path === '/tab/trend') await trendView(ctx, url);
      else if (path === '/tab/ask') await askView(ctx, url);
      else await incidentsView(ctx, url);
    } catch (err) {
      errorView(ctx, err);
    } finally {
      mainEl.setAttribute('aria-busy', 'false');
    }
    const title = mainEl.querySelector('h1')?.textContent;
    document.title = title ? `${title} · Support dashboard` : 'Support dashboard';
    if (focus) /** @type {HTMLElement | null} */ (document.querySelector(focus) ?? mainEl.querySelector('h1'))?.focus();
  }

  // Links inside the dashboard switch views in place; others (and modified clicks) behave as usual.
  document.addEventListener('click', (event) => {
    const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
    if (!(link instanceof HTMLAnchorElement) || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(link.href);
    if (url.origin !== location.origin || !url.pathname.startsWith('/tab/') || url.pathname.startsWith('/tab/assets/') || url.pathname === '/tab/configure') return;
    event.preventDefault();
    ctx.navigate(`${url.pathname}${url.search}`);
  });
  window.addEventListener('popstate', () => void render('h1'));
  search.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (!q) {
      input.focus();
      return;
    }
    ctx.navigate(`/tab/ask?${new URLSearchParams({ q })}`);
  });

  await render(null);
  if (host.inTeams) host.notifySuccess();
}

/**
 * The resolve dialog: the message for the affected users, sent when the form is submitted.
 * @param {import('./api.js').Api} api
 * @param {import('./views.js').IncidentSummary} incident
 * @returns {Promise<string | undefined>} the outcome text, or undefined when cancelled
 */
function askResolve(api, incident) {
  const dialog = /** @type {HTMLDialogElement} */ (byId('resolve-dialog'));
  const form = /** @type {HTMLFormElement} */ (byId('resolve-form'));
  const message = /** @type {HTMLTextAreaElement} */ (byId('resolve-message'));
  const error = /** @type {HTMLElement} */ (byId('resolve-error'));
  const cancel = /** @type {HTMLButtonElement} */ (byId('resolve-cancel'));
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  byId('resolve-title').textContent = `Resolve incident #${incident.id}`;
  byId('resolve-intro').textContent = `${incident.title}. Every affected user is told it is fixed, with your message.`;
  message.value = '';
  error.textContent = '';
  return new Promise((resolve) => {
    /** @type {string | undefined} */
    let outcome;
    const done = () => {
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('close', done);
      if (outcome === undefined && opener?.isConnected) opener.focus();
      resolve(outcome);
    };
    /** @param {SubmitEvent} event */
    const onSubmit = async (event) => {
      event.preventDefault();
      const text = message.value.trim();
      if (!text || text.length > 500) {
        error.textContent = 'Write what changed for the affected users, 1 to 500 characters.';
        message.focus();
        return;
      }
      try {
        const result = /** @type {import('./views.js').ActionResult} */ (await api.post(`/tab/api/incidents/${incident.id}/resolve`, { message: text }));
        outcome = String(result.text);
        dialog.close();
      } catch (err) {
        error.textContent = err instanceof Error ? err.message : String(err);
      }
    };
    const onCancel = () => dialog.close();
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('close', done);
    dialog.showModal();
    message.focus();
  });
}

main().catch((err) => {
  const mainEl = document.getElementById('main');
  if (mainEl) {
    replace(mainEl, h('h1', {}, 'The dashboard could not start'), h('p', { role: 'alert' }, err instanceof Error ? err.message : String(err)));
    mainEl.setAttribute('aria-busy', 'false');
  }
});
