/**
 * Runs Microsoft's Teams emulator (the Microsoft 365 Agents Playground, npm
 * `@microsoft/m365agentsplayground`) next to the bot: local mode (`npm start`) and the
 * end-to-end tests both use it.
 *
 * Two jobs: write the emulator's YAML config (mock tenant, users, chats, team) with fixed ids, so
 * conversation references the bot stored survive restarts; and start the emulator as a child
 * process that cannot reach the internet, resolving once it answers.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';

/** A mock Teams user. */
export interface PlaygroundPerson {
  /** The Bot Framework channel account id (`activity.from.id`), e.g. `user-id-0`. */
  id: string;
  /** Display name. At most 256 characters. */
  name: string;
  userPrincipalName: string;
  /** Entra (AAD) object id (`activity.from.aadObjectId`). */
  aadObjectId: string;
  /** Defaults to the first word of `name`. */
  givenName?: string;
  /** Defaults to the rest of `name` after the first word. */
  surname?: string;
  /** Defaults to `userPrincipalName`. */
  email?: string;
}

/** A team channel besides General (whose conversation id is the team id). */
export interface PlaygroundChannel {
  id: string;
  name: string;
}

/** What {@link writePlaygroundConfig} writes. Ids left out get fixed defaults, never random ones. */
export interface PlaygroundConfigOptions {
  /** Defaults to {@link DEFAULT_TENANT_ID}. */
  tenantId?: string;
  /** The bot's id as the emulator reports it in `recipient.id`. */
  botId: string;
  /** At most 42 characters (the emulator's limit). */
  botName: string;
  /** The person using the emulator: every message typed in the UI or posted to its HTTP API comes from them. */
  currentUser: PlaygroundPerson;
  /**
   * The other members of the group chat and the team: at most {@link PLAYGROUND_USER_COUNT}. The
   * emulator requires exactly that many, so a shorter list is padded with placeholder users
   * (`placeholder-user-<n>`, "Placeholder User <n>").
   */
  users: PlaygroundPerson[];
  /** Defaults to `personal-chat-<currentUser.id>`. */
  personalChatId?: string;
  /** Defaults to `group-chat`. */
  groupChatId?: string;
  /** Defaults to `Group Chat`. */
  groupChatName?: string;
  /** Also the id of the team's General channel. Defaults to `team-id`. */
  teamId?: string;
  /** Defaults to `My Team`. The UI names the General channel "<teamName> - General". */
  teamName?: string;
  /** Defaults to {@link DEFAULT_TEAM_AAD_GROUP_ID}. */
  teamAadGroupId?: string;
  /** Channels besides General: at most one (the emulator's limit). Defaults to none. */
  channels?: PlaygroundChannel[];
}

/** How many entries the emulator requires in `users` (schema: minItems 5, maxItems 5). */
export const PLAYGROUND_USER_COUNT = 5;
export const DEFAULT_TENANT_ID = '00000000-0000-0000-0000-000000000001';
export const DEFAULT_TEAM_AAD_GROUP_ID = '00000000-0000-0000-0000-000000000031';
/** The emulator's default port; it takes a random one when this is busy. */
export const DEFAULT_PLAYGROUND_PORT = 56150;

const CONFIG_VERSION = '0.1.1';
const MAX_BOT_NAME = 42;
const MAX_NAME = 256;
const MAX_EXTRA_CHANNELS = 1;

/**
 * The YAML text of an emulator config. Pure; {@link writePlaygroundConfig} writes it to a file.
 *
 * @throws Error listing every problem (too many users, duplicate ids, names too long, empty ids)
 *   so a bad config fails here and not as a terse parse error inside the emulator's log.
 */
export function renderPlaygroundConfig(options: PlaygroundConfigOptions): string {
  const problems: string[] = [];
  const text = (value: unknown, what: string, max?: number): void => {
    if (typeof value !== 'string' || value.trim() === '') problems.push(`${what} must be a non-empty string`);
    else if (max !== undefined && value.length > max) problems.push(`${what} is longer than ${max} characters`);
  };

  text(options.botId, 'botId');
  text(options.botName, 'botName', MAX_BOT_NAME);
  const people: Array<[PlaygroundPerson, string]> = [[options.currentUser, 'currentUser']];
  if (!Array.isArray(options.users)) {
    problems.push('users must be an array');
  } else {
    if (options.users.length > PLAYGROUND_USER_COUNT) {
      problems.push(`users has ${options.users.length} entries; the emulator allows at most ${PLAYGROUND_USER_COUNT} besides currentUser`);
    }
    options.users.forEach((u, i) => people.push([u, `users[${i}]`]));
  }
  for (const [person, where] of people) {
    if (person === null || typeof person !== 'object') {
      problems.push(`${where} must be an object`);
      continue;
    }
    text(person.id, `${where}.id`);
    text(person.name, `${where}.name`, MAX_NAME);
    text(person.userPrincipalName, `${where}.userPrincipalName`);
    text(person.aadObjectId, `${where}.aadObjectId`);
  }

  const channels = options.channels ?? [];
  if (channels.length > MAX_EXTRA_CHANNELS) {
    problems.push(`channels has ${channels.length} entries; the emulator allows at most ${MAX_EXTRA_CHANNELS} besides General`);
  }
  channels.forEach((c, i) => {
    text(c.id, `channels[${i}].id`);
    text(c.name, `channels[${i}].name`, MAX_NAME);
  });

  const personalChatId = options.personalChatId ?? `personal-chat-${options.currentUser?.id ?? ''}`;
  const groupChatId = options.groupChatId ?? 'group-chat';
  const teamId = options.teamId ?? 'team-id';
  text(personalChatId, 'personalChatId');
  text(groupChatId, 'groupChatId');
  text(teamId, 'teamId');
  if (options.groupChatName !== undefined) text(options.groupChatName, 'groupChatName', MAX_NAME);
  if (options.teamName !== undefined) text(options.teamName, 'teamName', MAX_NAME);
  if (options.tenantId !== undefined) text(options.tenantId, 'tenantId');

  // The emulator rejects both kinds of duplicates at start-up; say which id it is.
  duplicates(people.map(([p]) => p?.id)).forEach((id) => problems.push(`user id "${id}" is used more than once`));
  duplicates([personalChatId, groupChatId, teamId, ...channels.map((c) => c.id)])
    .forEach((id) => problems.push(`conversation id "${id}" is used more than once (chats, team and channels need distinct ids)`));

  if (problems.length > 0) throw new Error(`Invalid Teams emulator config:\n  - ${problems.join('\n  - ')}`);

  const users = options.users.map(toYamlUser);
  const taken = new Set(people.map(([p]) => p.id));
  for (let n = 1; users.length < PLAYGROUND_USER_COUNT; n += 1) {
    const id = `placeholder-user-${n}`;
    if (taken.has(id)) continue;
    users.push(toYamlUser({
      id,
      name: `Placeholder User ${n}`,
      userPrincipalName: `placeholder${n}@example.com`,
      aadObjectId: `00000000-0000-0000-0000-0000000009${String(n).padStart(2, '0')}`,
    }));
  }

  const document = {
    version: CONFIG_VERSION,
    tenantId: options.tenantId ?? DEFAULT_TENANT_ID,
    bot: { id: options.botId, name: options.botName },
    currentUser: toYamlUser(options.currentUser),
    users,
    personalChat: { id: personalChatId },
    groupChat: { id: groupChatId, name: options.groupChatName ?? 'Group Chat' },
    team: {
      id: teamId,
      name: options.teamName ?? 'My Team',
      aadGroupId: options.teamAadGroupId ?? DEFAULT_TEAM_AAD_GROUP_ID,
      channels: channels.map((c) => ({ id: c.id, name: c.name })),
    },
  };
  return `# Generated by supportbot (bot/local/playground.ts); rewritten at each start.\n${stringify(document)}`;
}

/**
 * Writes the emulator's config file (YAML, format version 0.1.1), creating its directory.
 * Pass the same ids at every start so stored conversation references stay valid.
 *
 * @throws Error when the options break the emulator's rules (see {@link renderPlaygroundConfig}).
 */
export async function writePlaygroundConfig(file: string, options: PlaygroundConfigOptions): Promise<void> {
  const content = renderPlaygroundConfig(options);
  await mkdir(dirname(resolve(file)), { recursive: true });
  await writeFile(file, content, 'utf8');
}

/** Options of {@link startPlayground}. */
export interface StartPlaygroundOptions {
  /** The bot's messaging endpoint, e.g. `http://127.0.0.1:3978/api/messages`. The bot must run anonymous. */
  botEndpoint: string;
  /** A file written by {@link writePlaygroundConfig}. */
  configFile: string;
  /** Defaults to {@link DEFAULT_PLAYGROUND_PORT}; 0 picks a free port. A busy port silently becomes a random one: read `port`. */
  port?: number;
  /** The emulator's own log (every request and response). Defaults to a temporary file removed by `stop()`. */
  logFile?: string;
  /** Working directory of the emulator process. Defaults to the config file's directory. */
  cwd?: string;
  /** How long to wait for the emulator to answer, in milliseconds. Defaults to 30 000. */
  startTimeoutMs?: number;
  /** The mock users' time zone (IANA); the emulator sends its process zone with every activity. Defaults to this machine's. */
  timeZone?: string;
}

/** A running emulator. */
export interface RunningPlayground {
  /** Base URL of the UI and of the HTTP/websocket API, e.g. `http://127.0.0.1:56150`. */
  url: string;
  port: number;
  /** Where the emulator logs; read it to see what the bot was sent and answered. */
  logFile: string;
  /** Stops the emulator (its whole process group) and waits until it has exited. Idempotent. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;
const LOG_TAIL_CHARS = 4_000;

/**
 * Starts the Teams emulator for a bot and resolves once `GET /_debug/ping` answers `pong`.
 * The process runs with telemetry off and no browser, so nothing leaves the machine.
 *
 * @throws Error (with the tail of the emulator's output and log) when it exits early, or does not
 *   answer within `startTimeoutMs`.
 */
export async function startPlayground(options: StartPlaygroundOptions): Promise<RunningPlayground> {
  const cli = require.resolve('@microsoft/m365agentsplayground/cli.js');
  const configFile = resolve(options.configFile);
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const ownLogDir = options.logFile === undefined ? await mkdtemp(join(tmpdir(), 'playground-log-')) : undefined;
  const logFile = options.logFile !== undefined ? resolve(options.logFile) : join(ownLogDir as string, 'playground.log');
  await mkdir(dirname(logFile), { recursive: true });

  const child = spawn(process.execPath, [
    cli, 'start',
    '-e', options.botEndpoint,
    '-c', 'msteams',
    '--disable-telemetry',
    '-p', String(options.port ?? DEFAULT_PLAYGROUND_PORT),
  ], {
    cwd: options.cwd ?? dirname(configFile),
    env: {
      ...process.env,
      TEAMSAPPTESTER_BROWSER: 'none',
      // --disable-telemetry alone still lets Application Insights call out; these two stop it.
      APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
      APPLICATIONINSIGHTS_CONFIGURATION_CONTENT: '{"disableAppInsights":true,"disableStatsbeat":true,"enableAutoCollectHeartbeat":false}',
      M365_AGENTS_PLAYGROUND_CONFIG_PATH: configFile,
      M365_AGENTS_PLAYGROUND_LOGFILE: logFile,
      // The emulator tells the bot its own zone as the user's (activity.localTimezone).
      ...(options.timeZone ? { TZ: options.timeZone } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stop() also ends anything it spawns.
    detached: true,
  });

  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-LOG_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // 'exit' never comes when the spawn itself fails (a missing cwd): count 'error' as an exit too.
  const exited = new Promise<void>((done) => {
    child.once('exit', () => done());
    child.once('error', (error) => {
      output += `\n${error.message}`;
      done();
    });
  });
  // Mocha runs with `exit: true` and local mode may die on a signal: do not leave an orphan emulator.
  const killOnExit = (): void => killGroup(child, 'SIGKILL');
  process.once('exit', killOnExit);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      if (ownLogDir !== undefined) await rm(ownLogDir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    const port = await waitForListening(child, () => output, exited, timeoutMs);
    const url = `http://127.0.0.1:${port}`;
    await waitForPing(url, exited, timeoutMs);
    return { url, port, logFile, stop };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    const log = await readFile(logFile, 'utf8').catch(() => '');
    await stop();
    // The reason (a config the emulator rejects, most often) is on its "error" lines, amid telemetry noise.
    const reasons = log.split('\n').filter((line) => line.startsWith('error ')).map((line) => `  ${line.slice(6)}`);
    throw new Error(
      `Teams emulator did not start (${why}).\n` +
      (reasons.length > 0 ? `--- its errors ---\n${reasons.join('\n')}\n` : '') +
      `--- its output (tail) ---\n${output.trim() || '(none)'}\n` +
      `--- its log${ownLogDir === undefined ? ` ${logFile}` : ''} (tail) ---\n${log.slice(-LOG_TAIL_CHARS).trim() || '(empty)'}`,
    );
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone: nothing to stop.
  }
}

/** Reads the port from `Listening on N`: with -p the emulator still falls back to a random port. */
function waitForListening(child: ChildProcess, output: () => string, exited: Promise<void>, timeoutMs: number): Promise<number> {
  return new Promise<number>((resolvePort, reject) => {
    const check = (): void => {
      const match = /Listening on (\d+)/.exec(output());
      if (match) {
        finish();
        resolvePort(Number(match[1]));
      }
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`no "Listening on <port>" within ${timeoutMs} ms`));
    }, timeoutMs);
    const onExit = (): void => {
      finish();
      reject(new Error(`it exited (${child.exitCode ?? child.signalCode ?? 'spawn failed'}) before listening`));
    };
    const finish = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
    };
    child.stdout?.on('data', check);
    void exited.then(onExit);
    check();
  });
}

async function waitForPing(url: string, exited: Promise<void>, timeoutMs: number): Promise<void> {
  let gone = false;
  void exited.then(() => { gone = true; });
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (gone) throw new Error('it exited before answering /_debug/ping');
    try {
      const response = await fetch(`${url}/_debug/ping`, { signal: AbortSignal.timeout(2_000) });
      const body = await response.text();
      if (response.ok && body.trim() === 'pong') return;
      last = `HTTP ${response.status} ${body.slice(0, 200)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url}/_debug/ping did not answer "pong" within ${timeoutMs} ms (last: ${last})`);
}

function toYamlUser(person: PlaygroundPerson): Record<string, string> {
  const [first = person.name, ...rest] = person.name.trim().split(/\s+/);
  return {
    id: person.id,
    name: person.name,
    // The emulator's schema spells it this way; "userPrincipalName" would be rejected.
    userPrincipleName: person.userPrincipalName,
    aadObjectId: person.aadObjectId,
    givenName: person.givenName ?? first,
    surname: person.surname ?? rest.join(' '),
    email: person.email ?? person.userPrincipalName,
  };
}

function duplicates(values: Array<string | undefined>): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const v of values) {
    if (v === undefined) continue;
    if (seen.has(v)) twice.add(v);
    seen.add(v);
  }
  return [...twice];
}
