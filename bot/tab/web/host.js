// @ts-check
/**
 * Is the page hosted in Teams, and if so: its theme and the signed-in person's SSO token.
 *
 * teams-js 2.58 (its own UMD bundle, loaded before this module) has no "am I in Teams" call, and
 * outside Teams it can hang: `app.initialize()` waits 60 s in a frame nobody answers, and
 * `app.getContext()` never settles if initialize did not resolve. So initialize is raced against
 * a short timer, and getContext is called only after initialize resolved. A top-level window
 * without an opener or a native bridge (Teams mobile) is never Teams: there initialize rejects in
 * milliseconds anyway ("No Parent window found").
 */

/** @typedef {typeof import('@microsoft/teams-js')} TeamsJs */
/** @typedef {'default' | 'dark' | 'contrast'} Theme */
/**
 * @typedef {object} TeamsHost
 * @property {true} inTeams
 * @property {Theme} theme
 * @property {import('@microsoft/teams-js').app.Context} context
 * @property {() => Promise<string>} getToken the Teams SSO token for the app's API
 * @property {(handler: (theme: Theme) => void) => void} onThemeChange
 * @property {() => void} notifySuccess tells Teams the tab has loaded
 * @property {TeamsJs} teams
 */
/**
 * @typedef {object} NoHost
 * @property {false} inTeams
 * @property {string} reason why this is not Teams (for the console, not for people)
 */
/** @typedef {TeamsHost | NoHost} Host */

/** @returns {TeamsJs | undefined} */
export function teamsJs() {
  return /** @type {TeamsJs | undefined} */ (Reflect.get(globalThis, 'microsoftTeams'));
}

/**
 * @param {unknown} value
 * @returns {Theme}
 */
export function normalizeTheme(value) {
  return value === 'dark' || value === 'contrast' ? value : 'default';
}

/**
 * Rejects after `ms` (and never keeps the page alive for longer than the race it is part of).
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} what
 * @returns {Promise<T>}
 */
function within(promise, ms, what) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const timeout = new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return /** @type {Promise<T>} */ (Promise.race([promise, timeout])).finally(() => clearTimeout(timer));
}

/**
 * Connects to Teams if the page is hosted there.
 * @param {{ timeoutMs?: number }} [options] how long to wait for a host (default 2.5 s)
 * @returns {Promise<Host>}
 */
export async function connectHost(options = {}) {
  const timeoutMs = options.timeoutMs ?? 2500;
  const teams = teamsJs();
  if (!teams) return { inTeams: false, reason: 'teams-js is not loaded' };
  const initialize = teams.app.initialize();
  // Outside Teams it rejects later (after up to 60 s): that must not surface as an unhandled rejection.
  initialize.catch(() => undefined);
  try {
    await within(initialize, timeoutMs, 'Teams initialize');
  } catch (err) {
    return { inTeams: false, reason: err instanceof Error ? err.message : String(err) };
  }
  let context;
  try {
    context = await within(teams.app.getContext(), timeoutMs, 'Teams getContext');
  } catch (err) {
    return { inTeams: false, reason: err instanceof Error ? err.message : String(err) };
  }
  return {
    inTeams: true,
    teams,
    context,
    theme: normalizeTheme(context.app.theme),
    getToken: () => teams.authentication.getAuthToken(),
    onThemeChange: (handler) => teams.app.registerOnThemeChangeHandler((theme) => handler(normalizeTheme(theme))),
    notifySuccess: () => {
      teams.app.notifySuccess().catch(() => undefined);
    },
  };
}

/**
 * Shows a theme: Teams' own (default, dark, contrast), or outside Teams `?theme=` or the
 * browser's light/dark preference (the stylesheet follows `prefers-color-scheme` when unset).
 * @param {Theme | undefined} theme
 */
export function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}
