// @ts-check
/**
 * The configuration page of the channel and group-chat tab. There is nothing to choose: the page
 * tells Teams the settings are valid at once, and on Save gives it the dashboard's address.
 */
import { applyTheme, connectHost } from './host.js';

async function configure() {
  const status = document.getElementById('config-status');
  const say = (/** @type {string} */ text) => {
    if (status) status.textContent = text;
  };
  const host = await connectHost();
  if (!host.inTeams) {
    say('This page adds the dashboard to a team or chat from inside Microsoft Teams. Outside Teams, open the dashboard itself.');
    const link = document.createElement('a');
    link.href = '/tab/';
    link.textContent = 'Open the dashboard';
    status?.after(Object.assign(document.createElement('p'), { className: 'open-dashboard' }));
    status?.nextElementSibling?.append(link);
    return;
  }
  applyTheme(host.theme);
  host.onThemeChange((theme) => applyTheme(theme));
  const { pages } = host.teams;
  pages.config.registerOnSaveHandler((saveEvent) => {
    const contentUrl = new URL('/tab/', location.href).href;
    pages.config
      .setConfig({ contentUrl, websiteUrl: contentUrl, entityId: 'dashboard', suggestedDisplayName: 'Support dashboard' })
      .then(() => saveEvent.notifySuccess())
      .catch((/** @type {unknown} */ err) => saveEvent.notifyFailure(err instanceof Error ? err.message : String(err)));
  });
  pages.config.setValidityState(true);
  say('Ready: choose Save to add the dashboard.');
  host.notifySuccess();
}

configure().catch((err) => {
  const status = document.getElementById('config-status');
  if (status) status.textContent = `Could not set up the tab: ${err instanceof Error ? err.message : String(err)}`;
});
