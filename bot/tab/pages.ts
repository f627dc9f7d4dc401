/**
 * The dashboard's HTML: static shells, the same for everyone. No data is in them (the iframe Teams
 * loads carries no credentials); the page script fetches it from the API with the person's token.
 * Scripts and styles are files of our own origin only (the CSP allows nothing inline).
 */

const head = (title: string, script: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${title}</title>
<link rel="stylesheet" href="/tab/assets/tab.css">
<script src="/tab/assets/teams-js.min.js" defer></script>
<script type="module" src="/tab/assets/${script}"></script>
</head>`;

/** The dashboard: incidents, one incident, rules, trend and answers are views of this one page. */
export function dashboardPage(): string {
  return `${head('Support dashboard', 'app.js')}
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="top">
  <div class="top-row">
    <p class="brand"><span class="brand-mark" aria-hidden="true"></span>Support dashboard</p>
    <p class="who" id="who"></p>
  </div>
  <div class="top-row">
    <nav aria-label="Dashboard" id="nav" hidden>
      <ul>
        <li><a href="/tab/" data-view="incidents">Incidents</a></li>
        <li><a href="/tab/rules" data-view="rules">Rules</a></li>
        <li><a href="/tab/trend" data-view="trend">Trend</a></li>
      </ul>
    </nav>
    <form role="search" class="search" id="search" action="/tab/ask" method="get" hidden>
      <label for="q">Ask the logs</label>
      <input id="q" name="q" type="search" maxlength="1000" autocomplete="off" placeholder="e.g. show errors for user 1087 today" aria-describedby="q-hint">
      <button type="submit" class="button primary">Ask</button>
      <span id="q-hint" class="visually-hidden">The same plain-language questions as the chat.</span>
    </form>
  </div>
</header>
<div id="status" class="status" role="status" aria-live="polite"></div>
<main id="main" tabindex="-1" aria-busy="true">
  <p class="loading">Loading the dashboard…</p>
</main>
<dialog id="resolve-dialog" aria-labelledby="resolve-title" aria-describedby="resolve-intro">
  <form method="dialog" id="resolve-form">
    <h2 id="resolve-title">Resolve incident</h2>
    <p id="resolve-intro">Every affected user is told it is fixed, with your message.</p>
    <label for="resolve-message">Message for the affected users</label>
    <textarea id="resolve-message" name="message" rows="3" maxlength="500" required aria-describedby="resolve-hint"></textarea>
    <p id="resolve-hint" class="hint">1 to 500 characters, e.g. "Fixed in 2.4.1: editing works again."</p>
    <p id="resolve-error" class="error" role="alert"></p>
    <div class="dialog-actions">
      <button type="submit" class="button primary" value="resolve">Resolve incident</button>
      <button type="button" class="button" id="resolve-cancel">Cancel</button>
    </div>
  </form>
</dialog>
</body>
</html>
`;
}

/** The configuration page of the channel and group-chat tab: Teams shows it in its Save dialog. */
export function configurePage(): string {
  return `${head('Support dashboard: add to the team', 'configure.js')}
<body>
<main id="main" class="configure">
  <h1>Support dashboard</h1>
  <p>Adds the support dashboard to this team or chat: open incidents with the people they affect, alert rules, error trends around releases, and a search box that answers the same questions as the bot.</p>
  <p id="config-status" role="status" aria-live="polite">Connecting to Teams…</p>
</main>
</body>
</html>
`;
}
