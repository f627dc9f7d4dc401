import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isValidZone } from './logs/timestamps';
import { projectPath } from './paths';

/**
 * The only reader of process.env: every setting parsed and checked once, typed and frozen.
 * `.env.example` documents each variable. A bad value is reported with every other bad value in one
 * ConfigError, so a person fixes them all at once.
 */
export interface Config {
  /** Where the embedded store, ingest offsets and bot state live. `SUPPORTBOT_DATA_DIR`, default `./.data`. */
  dataDir: string;
  /** Sources configuration (which files are which logs). `SUPPORTBOT_SOURCES`, default `config/sources.yaml`. */
  sourcesFile: string;
  /** Elasticsearch, when `ELASTICSEARCH_URL` is set; otherwise the embedded SQLite store. */
  elasticsearch?: {
    node: string;
    apiKey?: string;
    username?: string;
    password?: string;
    index: string;
    tlsInsecure: boolean;
    caFile?: string;
  };
  /** Longest a search may take before the answer is "the log store is unavailable". `SUPPORTBOT_SEARCH_TIMEOUT_MS`, default 10000. */
  searchTimeoutMs: number;
  /** The user directory CSV (log user id ↔ Teams identity, role, supervisor). `USER_DIRECTORY`. */
  userDirectory: string;
  /** Zone for times when none is given (`--tz`, the Teams user's zone). `SUPPORTBOT_TIME_ZONE`, default the system zone. */
  timeZone: string;
  /** Sample logs ingested by `npm start` when the embedded store is empty. */
  sampleLogs: string;
  /** The Teams bot. */
  bot: BotConfig;
  /**
   * What "now" is. `system`: the real clock. An ISO instant: a clock that starts there and runs
   * forward (demos and replays of old logs, like the 2020 sample). `SUPPORTBOT_CLOCK`, default system;
   * local mode on the sample data starts at the sample's last afternoon unless this is set.
   */
  clock: { kind: 'system' } | { kind: 'from'; start: string };
  /** Port of the Teams emulator in local mode. `SUPPORTBOT_PLAYGROUND_PORT`, default 56150. */
  playgroundPort: number;
  /** Alert rules. */
  alerts: AlertsConfig;
  /** The bot's JSON log level on stderr. `SUPPORTBOT_LOG_LEVEL`, default info (local mode: warn). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** The dashboard tab. */
  tab: {
    /** A release to mark on the trend chart (epoch ms). `SUPPORTBOT_RELEASE_AT`, ISO 8601. */
    releaseAt?: number;
    /** Host name Teams reaches the bot at (v1 SSO tokens name it in their audience). `BOT_DOMAIN`. */
    botDomain?: string;
  };
}

export interface AlertsConfig {
  /** Folder of rule files. `SUPPORTBOT_RULES`, default rules/. */
  rulesDir: string;
  /** How often rules run. `SUPPORTBOT_ALERT_INTERVAL_MS`, default 5000. */
  intervalMs: number;
  /** How far before its checkpoint a rule looks again for late events. `SUPPORTBOT_ALERT_LOOKBACK_MS`, default 120000. */
  lookbackMs: number;
  /** Log folders the bot follows (like ingest --follow), comma-separated. `SUPPORTBOT_FOLLOW`, default none. */
  follow: string[];
  /** Where rules start on their first run (epoch ms), `SUPPORTBOT_ALERTS_FROM` (ISO or now); unset: now (local mode: the sample week). */
  from?: number | 'now';
  /** Teams rate limits: messages per second per conversation and per app. Defaults 7 and 50. */
  perConversationPerSecond: number;
  perTenantPerSecond: number;
}

export interface BotConfig {
  /** Microsoft Entra app (bot) id; absent: anonymous local mode (no JWT check, 127.0.0.1 only). */
  appId?: string;
  appPassword?: string;
  appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
  tenantId?: string;
  /** `PORT`, default 3978. */
  port: number;
  /** Interface to listen on: 127.0.0.1 when anonymous, else `HOST` (default 0.0.0.0). */
  host: string;
  /** True when no credentials are configured. */
  anonymous: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

type Env = Record<string, string | undefined>;

function systemZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Readonly<Config> {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const path = (name: string, fallback: string): string => {
    const v = get(name);
    if (v === undefined) return fallback;
    return isAbsolute(v) ? v : resolve(cwd, v);
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const v = get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}: '${v}' must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };

  const appId = get('MicrosoftAppId');
  const appPassword = get('MicrosoftAppPassword');
  const appTypeText = get('MicrosoftAppType') ?? 'MultiTenant';
  const tenantId = get('MicrosoftAppTenantId');
  const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (!['MultiTenant', 'SingleTenant', 'UserAssignedMSI'].includes(appTypeText)) {
    problems.push(`MicrosoftAppType: '${appTypeText}' must be MultiTenant, SingleTenant or UserAssignedMSI`);
  }
  const appType = appTypeText as BotConfig['appType'];
  if (appId !== undefined && !guid.test(appId)) problems.push(`MicrosoftAppId: '${appId}' is not a GUID (the bot's Microsoft Entra app id)`);
  if (appId === undefined && (appPassword !== undefined || tenantId !== undefined)) {
    problems.push('MicrosoftAppId: required when MicrosoftAppPassword or MicrosoftAppTenantId is set');
  }
  if (appId !== undefined && appType !== 'UserAssignedMSI' && appPassword === undefined) {
    problems.push(`MicrosoftAppPassword: required with MicrosoftAppId for MicrosoftAppType ${appType}`);
  }
  if (appId !== undefined && appType !== 'MultiTenant' && tenantId === undefined) {
    problems.push(`MicrosoftAppTenantId: required for MicrosoftAppType ${appType}`);
  }
  if (tenantId !== undefined && !guid.test(tenantId)) problems.push(`MicrosoftAppTenantId: '${tenantId}' is not a GUID`);
  const anonymous = appId === undefined;
  const clockText = get('SUPPORTBOT_CLOCK') ?? 'system';
  let clock: Config['clock'] = { kind: 'system' };
  if (clockText !== 'system') {
    if (Number.isNaN(Date.parse(clockText)) || !/^\d{4}-\d{2}-\d{2}T/.test(clockText)) {
      problems.push(`SUPPORTBOT_CLOCK: '${clockText}' must be 'system' or an ISO 8601 instant such as 2020-06-12T16:30:00+02:00`);
    } else clock = { kind: 'from', start: new Date(clockText).toISOString() };
  }

  const fromText = get('SUPPORTBOT_ALERTS_FROM');
  let alertsFrom: number | 'now' | undefined;
  if (fromText === 'now') alertsFrom = 'now';
  else if (fromText !== undefined) {
    alertsFrom = Date.parse(fromText);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(fromText) || Number.isNaN(alertsFrom)) {
      problems.push(`SUPPORTBOT_ALERTS_FROM: '${fromText}' must be 'now' or an ISO 8601 instant`);
      alertsFrom = undefined;
    }
  }
  const releaseText = get('SUPPORTBOT_RELEASE_AT');
  const releaseAt = releaseText === undefined ? undefined : Date.parse(releaseText);
  if (releaseText !== undefined && (Number.isNaN(releaseAt) || !/^\d{4}-\d{2}-\d{2}T/.test(releaseText))) problems.push(`SUPPORTBOT_RELEASE_AT: '${releaseText}' is not an ISO 8601 instant`);
  const botDomain = get('BOT_DOMAIN');
  if (botDomain !== undefined && !/^[a-z0-9.-]+$/i.test(botDomain)) problems.push(`BOT_DOMAIN: '${botDomain}' must be a host name (no scheme, port or path)`);
  const logLevel = get('SUPPORTBOT_LOG_LEVEL');
  if (logLevel !== undefined && !['debug', 'info', 'warn', 'error'].includes(logLevel)) problems.push(`SUPPORTBOT_LOG_LEVEL: '${logLevel}' must be debug, info, warn or error`);

  const config: Config = {
    dataDir: path('SUPPORTBOT_DATA_DIR', resolve(cwd, '.data')),
    sourcesFile: path('SUPPORTBOT_SOURCES', projectPath('config', 'sources.yaml')),
    searchTimeoutMs: int('SUPPORTBOT_SEARCH_TIMEOUT_MS', 10_000, 100, 600_000),
    userDirectory: path('USER_DIRECTORY', projectPath('samples', 'contoso', 'directory', 'users.csv')),
    timeZone: get('SUPPORTBOT_TIME_ZONE') ?? systemZone(),
    sampleLogs: projectPath('samples', 'contoso', 'logs'),
    bot: {
      appType,
      port: int('PORT', 3978, 1, 65535),
      // Without credentials nobody's token is checked: only this machine may talk to the bot.
      host: anonymous ? '127.0.0.1' : (get('HOST') ?? '0.0.0.0'),
      anonymous,
      ...(appId ? { appId } : {}),
      ...(appPassword ? { appPassword } : {}),
      ...(tenantId ? { tenantId } : {}),
    },
    clock,
    playgroundPort: int('SUPPORTBOT_PLAYGROUND_PORT', 56150, 1, 65535),
    alerts: {
      rulesDir: path('SUPPORTBOT_RULES', projectPath('rules')),
      intervalMs: int('SUPPORTBOT_ALERT_INTERVAL_MS', 5000, 100, 3_600_000),
      lookbackMs: int('SUPPORTBOT_ALERT_LOOKBACK_MS', 120_000, 0, 86_400_000),
      follow: (get('SUPPORTBOT_FOLLOW') ?? '').split(',').map((x) => x.trim()).filter(Boolean).map((x) => (isAbsolute(x) ? x : resolve(cwd, x))),
      perConversationPerSecond: int('SUPPORTBOT_RATE_PER_CONVERSATION', 7, 1, 1000),
      perTenantPerSecond: int('SUPPORTBOT_RATE_PER_TENANT', 50, 1, 10_000),
      ...(alertsFrom !== undefined ? { from: alertsFrom } : {}),
    },
    ...(logLevel ? { logLevel: logLevel as Config['logLevel'] } : {}),
    tab: {
      ...(releaseAt !== undefined && !Number.isNaN(releaseAt) ? { releaseAt } : {}),
      ...(botDomain ? { botDomain: botDomain.toLowerCase() } : {}),
    },
  };
  if (!isValidZone(config.timeZone)) problems.push(`SUPPORTBOT_TIME_ZONE: '${config.timeZone}' is not an IANA time zone`);
  if (!existsSync(config.sourcesFile)) problems.push(`SUPPORTBOT_SOURCES: ${config.sourcesFile} does not exist`);

  const url = get('ELASTICSEARCH_URL');
  if (url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
    } catch {
      problems.push(`ELASTICSEARCH_URL: '${url}' is not an http(s) URL`);
    }
    const apiKey = get('ELASTICSEARCH_API_KEY');
    const username = get('ELASTICSEARCH_USERNAME');
    const password = env.ELASTICSEARCH_PASSWORD;
    if (apiKey && username) problems.push('ELASTICSEARCH_API_KEY and ELASTICSEARCH_USERNAME: set one way to authenticate, not both');
    if (username && password === undefined) problems.push('ELASTICSEARCH_PASSWORD: required with ELASTICSEARCH_USERNAME');
    const index = get('ELASTICSEARCH_INDEX') ?? 'supportbot-logs';
    if (!/^[a-z0-9][a-z0-9_.-]{0,200}$/.test(index)) problems.push(`ELASTICSEARCH_INDEX: '${index}' is not a valid index name (lower case, no spaces)`);
    const caFile = get('ELASTICSEARCH_CA_FILE');
    if (caFile && !existsSync(caFile)) problems.push(`ELASTICSEARCH_CA_FILE: ${caFile} does not exist`);
    if (parsed) {
      config.elasticsearch = {
        node: url,
        index,
        tlsInsecure: get('ELASTICSEARCH_TLS_INSECURE') === 'true',
        ...(apiKey ? { apiKey } : {}),
        ...(username ? { username, password: password ?? '' } : {}),
        ...(caFile ? { caFile } : {}),
      };
    }
  }
  if (problems.length) throw new ConfigError(problems);
  Object.freeze(config.bot);
  Object.freeze(config.alerts);
  Object.freeze(config.tab);
  return Object.freeze(config);
}
