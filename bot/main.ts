#!/usr/bin/env node
/**
 * `npm start`. Without Teams credentials: local mode — the embedded store with the sample data
 * (ingested when empty), the bot on 127.0.0.1, and Microsoft's Teams emulator connected to it.
 * With credentials (MicrosoftAppId …): the bot alone, for real Teams.
 *
 *   npm start                      local mode, you are the support engineer of the sample
 *   npm start -- --as 1087         local mode as another person of the directory (id or login)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config';
import { createEngine } from '../src/engine';
import { Person } from '../src/directory/user-directory';
import { ALL_RULES } from '../src/alerts/alert-state';
import { createLogger } from '../src/logger';
import { projectPath } from '../src/paths';
import { createBotApp } from './app';
import { DEFAULT_TENANT_ID, PlaygroundPerson, startPlayground, writePlaygroundConfig } from './local/playground';
import { roleName } from './conversation';

interface LocalMode {
  clock: string;
  releaseAt: string;
  timeZone: string;
  alertsFrom: string;
  currentUser: string;
  users: string[];
}

const say = (text: string) => process.stdout.write(`${text}\n`);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const asPlayground = (p: Person, id: string): PlaygroundPerson => ({
  id,
  name: p.displayName,
  userPrincipalName: p.userPrincipalName,
  aadObjectId: p.aadObjectId,
});

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const probe = loadConfig();
  if (!probe.bot.anonymous) {
    const from = probe.alerts.from;
    const app = await createBotApp(probe, {
      logger: createLogger({ level: probe.logLevel ?? 'info' }),
      ...(typeof from === 'number' ? { alertsFrom: from } : {}),
    });
    const url = await app.start();
    say(`Support bot listening on ${url}/api/messages (Teams app ${probe.bot.appId}, ${probe.bot.appType}).`);
    say(`Health: ${url}/healthz   Metrics: ${url}/metrics`);
    onStop(() => app.stop());
    return;
  }

  // Local mode: demo settings of the sample fill in what the environment leaves open.
  const demo = JSON.parse(readFileSync(projectPath('samples', 'contoso', 'local-mode.json'), 'utf8')) as LocalMode;
  const env = { SUPPORTBOT_CLOCK: demo.clock, SUPPORTBOT_TIME_ZONE: demo.timeZone, SUPPORTBOT_RELEASE_AT: demo.releaseAt, ...process.env };
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel ?? 'warn' });
  const engine = await createEngine(config);
  if ((await engine.logStore.size()) === 0) {
    say(`Ingesting the sample logs (${config.sampleLogs}) into the ${engine.logStore.kind} store …`);
    const report = await engine.ingest([config.sampleLogs]);
    say(`  ${report.events} events from ${report.files} files${report.malformed.length ? `, ${report.malformed.length} malformed` : ''}.`);
  }
  const directory = engine.directory;
  const who = arg('as') ?? demo.currentUser;
  const me = directory.byUserId(who) ?? directory.byLogin(who);
  if (!me) throw new ConfigError([`--as: nobody with user id or login '${who}' in ${config.userDirectory}`]);
  const others = demo.users.filter((id) => id !== me.userId).map((id) => directory.byUserId(id)).filter((p): p is Person => !!p);
  if (!others.some((p) => p.userId === demo.currentUser) && me.userId !== demo.currentUser) {
    const usual = directory.byUserId(demo.currentUser);
    if (usual) others.unshift(usual);
  }

  // Where rules start on the first run: the sample week (a demo of what they find), unless configured.
  const from = config.alerts.from ?? Date.parse(demo.alertsFrom);
  const alertsFrom = from === 'now' ? engine.clock() : from;
  const app = await createBotApp(config, { engine, logger, alertsFrom, deferAlerts: true, localUser: me });
  const botUrl = await app.start();
  const playgroundDir = join(config.dataDir, 'playground');
  const configFile = join(playgroundDir, '.m365agentsplayground.yml');
  const personalChatId = `personal-chat-${me.userId}`;
  const teamId = 'contoso-support-team';
  await writePlaygroundConfig(configFile, {
    tenantId: DEFAULT_TENANT_ID,
    botId: '00000000-0000-0000-0000-00000000b07',
    botName: 'Support Bot',
    currentUser: asPlayground(me, `user-${me.userId}`),
    users: others.slice(0, 5).map((p) => asPlayground(p, `user-${p.userId}`)),
    personalChatId,
    groupChatId: 'contoso-group-chat',
    teamId,
    teamName: 'Contoso Support',
  });
  const playground = await startPlayground({
    botEndpoint: `${botUrl}/api/messages`,
    configFile,
    port: config.playgroundPort,
    logFile: join(playgroundDir, 'playground.log'),
    timeZone: config.timeZone,
  });
  // Install the app in the personal chat and the team, so proactive cards have somewhere to go,
  // and make the team's General channel the support channel (every rule's notices).
  for (const conversation of [personalChatId, teamId]) {
    await fetch(`${playground.url}/_debug/conversation/${encodeURIComponent(conversation)}/installation`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch(() => undefined);
  }
  // The emulator answers before the bot has the installation: wait until both references are kept.
  for (let i = 0; i < 100 && !(app.services.conversations.conversation(personalChatId) && app.services.conversations.conversation(teamId)); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  app.services.alerts?.state.subscribe(teamId, ALL_RULES, 'local-mode', engine.clock());
  app.services.alerts?.start();

  say('');
  say(`Support bot in local mode: embedded ${engine.logStore.kind} store (${await engine.logStore.size()} events), bot at ${botUrl} (this machine only, no sign-in).`);
  say(`Clock: the sample's last afternoon (${config.clock.kind === 'from' ? config.clock.start : 'system'}); set SUPPORTBOT_CLOCK=system for the real time.`);
  say('');
  say(`  Open ${playground.url} in a browser: the Teams emulator, connected to the bot.`);
  say(`  Dashboard (the Teams tab, as ${me.displayName}): ${botUrl}/tab/`);
  say('');
  say(`You are ${me.displayName} (user ${me.userId}, ${roleName(me.role)}). Try: show errors for user 1087 today · errors per hour today · help`);
  say(`Be someone else: npm start -- --as 1087 (Paul Rossi, user) · --as 1345 (Ines Okafor, supervisor of 1087) · --as 1011 (Xenia Dubois, support)`);
  say(`Alert cards go to the personal chat of the person concerned and to the team "Contoso Support" (General), which is subscribed to all rules.`);
  onStop(async () => {
    await playground.stop();
    await app.stop();
  });
}

function onStop(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    say('Stopping …');
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`supportbot: could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
