import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import Ajv, { type ErrorObject } from 'ajv-draft-04';
import { CHAT_COMMANDS, ChatCommand, Scope } from '../chat-commands';
import { projectPath } from '../paths';
import { createZip } from './zip';

/**
 * Builds the Teams app package (the zip a Teams admin uploads) from `manifest/`:
 * `manifest.template.json` with its `${{NAME}}` placeholders filled from the environment, and the
 * two icons. The result is checked against the official manifest schema shipped in
 * `manifest/schema/`, so a package that Teams would refuse is refused here, offline, with a message
 * a person can act on.
 *
 * Placeholders in the template: `${{BOT_ID}}`, `${{APP_ID}}`, `${{BOT_DOMAIN}}`,
 * `${{TAB_BASE_URL}}`, `${{APP_VERSION}}`, `${{DEVELOPER_NAME}}`, `${{DEVELOPER_URL}}`,
 * `${{PRIVACY_URL}}`, `${{TERMS_URL}}` anywhere inside a string; and `"${{COMMAND_LISTS}}"`, a
 * whole string that becomes the bot's `commandLists`, generated from the `CHAT_COMMANDS` registry
 * so the Teams command menu never drifts from what the bot understands.
 */

/** What {@link buildAppPackage} needs. */
export interface AppPackageOptions {
  /** Where the settings come from, usually `process.env` (empty strings count as unset). */
  env: Record<string, string | undefined>;
  /** The zip to write; its directory is created if missing. */
  outFile: string;
}

/** A written app package. */
export interface AppPackage {
  /** Absolute path of the zip. */
  file: string;
  /** The manifest.json inside it. */
  manifest: object;
  /** Things that will not stop Teams from accepting the package but may be wrong, e.g. defaulted URLs. */
  warnings: string[];
}

/** The package cannot be built; `problems` lists every reason, each starting with what to fix. */
export class AppPackageError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`cannot build the Teams app package:\n  ${problems.join('\n  ')}`);
    this.name = 'AppPackageError';
  }
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Filled inside strings. */
type Placeholder =
  | 'BOT_ID'
  | 'APP_ID'
  | 'BOT_DOMAIN'
  | 'TAB_BASE_URL'
  | 'APP_VERSION'
  | 'DEVELOPER_NAME'
  | 'DEVELOPER_URL'
  | 'PRIVACY_URL'
  | 'TERMS_URL';

interface Settings {
  values: Record<Placeholder, string>;
  /** Host of TAB_BASE_URL when it is not BOT_DOMAIN: the tab's pages load from there, so Teams must allow it. */
  extraDomain?: string;
  warnings: string[];
}

const SCHEMA_FILE = 'MicrosoftTeams.v1.29.schema.json';
const SCOPES: readonly Scope[] = ['personal', 'team', 'groupChat'];
/** Teams shows at most 10 commands per scope (the schema allows 12, the client does not). */
const MAX_COMMANDS = 10;
const MAX_TITLE = 32;
const MAX_DESCRIPTION = 128;
/** developer.name in the schema. */
const MAX_DEVELOPER_NAME = 32;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Teams wants major.minor.patch only: no pre-release or build suffix. */
const VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const ICONS: readonly { name: string; size: number }[] = [
  { name: 'color.png', size: 192 },
  { name: 'outline.png', size: 32 },
];

/**
 * Fills the manifest template from `options.env`, validates it against the manifest schema 1.29
 * and writes a zip with manifest.json, color.png and outline.png at its root.
 *
 * Reads `MicrosoftAppId` (required, the bot's Entra app id), `BOT_DOMAIN` (required),
 * `TEAMS_APP_ID` (default: MicrosoftAppId), `TAB_BASE_URL` (default `https://<BOT_DOMAIN>`),
 * `APP_VERSION` (default: package.json's version), `DEVELOPER_NAME` (default "Support Bot"),
 * `DEVELOPER_URL` (default TAB_BASE_URL), `PRIVACY_URL` and `TERMS_URL` (default
 * `<TAB_BASE_URL>/privacy` and `/terms`).
 *
 * @throws AppPackageError listing every missing or invalid setting (each names its variable),
 *   and every schema violation, before anything is written.
 */
export async function buildAppPackage(options: AppPackageOptions): Promise<AppPackage> {
  const settingProblems: string[] = [];
  const version = await packageVersion();
  const settings = readSettings(options.env, version, settingProblems);
  const commands = commandLists(CHAT_COMMANDS, settingProblems);
  const icons = await readIcons(settingProblems);
  if (settingProblems.length || !settings) throw new AppPackageError(settingProblems);

  const template = JSON.parse(await readFile(projectPath('manifest', 'manifest.template.json'), 'utf8')) as Json;
  const templateProblems: string[] = [];
  const manifest = fill(template, settings.values, { COMMAND_LISTS: commands }, templateProblems);
  if (templateProblems.length) throw new AppPackageError(templateProblems);
  if (settings.extraDomain && isObject(manifest) && Array.isArray(manifest.validDomains)) {
    manifest.validDomains.push(settings.extraDomain);
  }

  const schemaProblems = await validateManifest(manifest);
  if (schemaProblems.length) throw new AppPackageError(schemaProblems);

  const file = resolve(options.outFile);
  const zip = createZip([
    { name: 'manifest.json', data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8') },
    ...icons.map(({ name, data }) => ({ name, data })),
  ]);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, zip);
  return { file, manifest: manifest as object, warnings: settings.warnings };
}

/** Reads and checks every setting, pushing one line per problem; undefined when something is missing. */
function readSettings(env: Record<string, string | undefined>, defaultVersion: string, problems: string[]): Settings | undefined {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const warnings: string[] = [];
  const before = problems.length;

  const botId = get('MicrosoftAppId');
  if (botId === undefined) problems.push("MicrosoftAppId: required, the bot's Microsoft Entra app id (a GUID)");
  else if (!GUID.test(botId)) problems.push(`MicrosoftAppId: '${botId}' is not a GUID (the bot's Microsoft Entra app id)`);

  const teamsAppId = get('TEAMS_APP_ID');
  if (teamsAppId !== undefined && !GUID.test(teamsAppId)) problems.push(`TEAMS_APP_ID: '${teamsAppId}' is not a GUID`);

  const domainText = get('BOT_DOMAIN');
  let domain: string | undefined;
  if (domainText === undefined) {
    problems.push("BOT_DOMAIN: required, the host name where Teams reaches the bot's server, e.g. supportbot.contoso.com");
  } else {
    const problem = hostProblem(domainText);
    if (problem) problems.push(`BOT_DOMAIN: '${domainText}' ${problem}`);
    else {
      domain = domainText.toLowerCase();
      if (!domain.includes('.')) warnings.push(`BOT_DOMAIN: '${domain}' is not a public name; Teams clients cannot reach it`);
    }
  }

  // Without a valid domain there is no default base URL to check; the BOT_DOMAIN problem says enough.
  const tabText = get('TAB_BASE_URL') ?? (domain ? `https://${domain}` : undefined);
  let tabBase: string | undefined;
  let extraDomain: string | undefined;
  if (tabText !== undefined) {
    const url = parseUrl(tabText);
    if (!url || url.protocol !== 'https:' || url.search || url.hash || url.username || url.password) {
      problems.push(`TAB_BASE_URL: '${tabText}' must be an https URL without query or fragment, e.g. https://supportbot.contoso.com (Teams loads tabs over https only)`);
    } else {
      tabBase = url.href.replace(/\/+$/, '');
      if (domain && url.hostname !== domain) {
        extraDomain = url.hostname;
        warnings.push(
          `TAB_BASE_URL: the tab is served from ${url.hostname}, not BOT_DOMAIN ${domain}; single sign-on in the tab needs ` +
            `the Entra app's Application ID URI (api://${domain}/...) on the tab's own host`,
        );
      }
    }
  }

  const version = get('APP_VERSION') ?? defaultVersion;
  if (!VERSION.test(version)) {
    const origin = get('APP_VERSION') === undefined ? ' (from package.json)' : '';
    problems.push(`APP_VERSION: '${version}'${origin} must be major.minor.patch, e.g. 1.0.3; Teams needs a higher one for every update`);
  }

  const developerName = get('DEVELOPER_NAME') ?? 'Support Bot';
  if (developerName.length > MAX_DEVELOPER_NAME) {
    problems.push(`DEVELOPER_NAME: '${developerName}' is longer than ${MAX_DEVELOPER_NAME} characters`);
  }

  const link = (name: string, fallbackPath: string, explain: string): string | undefined => {
    const given = get(name);
    if (given === undefined) {
      if (tabBase === undefined) return undefined;
      const fallback = `${tabBase}${fallbackPath}`;
      if (explain) warnings.push(`${name}: not set, the package links to ${fallback}; ${explain}`);
      return fallback;
    }
    const url = parseUrl(given);
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      problems.push(`${name}: '${given}' is not an http(s) URL`);
      return undefined;
    }
    return given;
  };
  const developerUrl = link('DEVELOPER_URL', '/', '');
  const privacyUrl = link('PRIVACY_URL', '/privacy', "the bot's server must serve it, or set PRIVACY_URL to your privacy statement");
  const termsUrl = link('TERMS_URL', '/terms', "the bot's server must serve it, or set TERMS_URL to your terms of use");

  if (problems.length > before || !botId || !domain || !tabBase || !developerUrl || !privacyUrl || !termsUrl) return undefined;
  return {
    values: {
      BOT_ID: botId,
      APP_ID: teamsAppId ?? botId,
      BOT_DOMAIN: domain,
      TAB_BASE_URL: tabBase,
      APP_VERSION: version,
      DEVELOPER_NAME: developerName,
      DEVELOPER_URL: developerUrl,
      PRIVACY_URL: privacyUrl,
      TERMS_URL: termsUrl,
    },
    ...(extraDomain ? { extraDomain } : {}),
    warnings,
  };
}

/** Why `text` is not a bare host name, or undefined when it is one. */
function hostProblem(text: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return 'must be a host name without a scheme, e.g. supportbot.contoso.com (drop the "https://")';
  if (/[/:?#@\s]/.test(text)) return 'must be a host name only, e.g. supportbot.contoso.com: no path, port or spaces';
  if (text.length > 253 || !text.split('.').every((label) => HOST_LABEL.test(label))) {
    return 'is not a valid host name, e.g. supportbot.contoso.com';
  }
  return undefined;
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** One command list per scope with the registry's commands for it, in registry order. */
function commandLists(commands: readonly ChatCommand[], problems: string[]): Json {
  const where = 'CHAT_COMMANDS (src/chat-commands.ts)';
  for (const command of commands) {
    if (command.name.length > MAX_TITLE) problems.push(`${where}: '${command.name}' is longer than ${MAX_TITLE} characters, too long for the Teams command menu`);
    if (command.description.length > MAX_DESCRIPTION) {
      problems.push(`${where}: the description of '${command.name}' is longer than ${MAX_DESCRIPTION} characters`);
    }
  }
  const lists: Json[] = [];
  for (const scope of SCOPES) {
    const inScope = commands.filter((c) => c.scopes.includes(scope));
    if (inScope.length > MAX_COMMANDS) {
      problems.push(`${where}: ${inScope.length} commands for scope ${scope}; the Teams command menu shows at most ${MAX_COMMANDS}`);
    }
    if (inScope.length) {
      lists.push({ scopes: [scope], commands: inScope.map((c) => ({ title: c.name, description: c.description })) });
    }
  }
  return lists;
}

/**
 * Replaces placeholders throughout the template. A string that is exactly a structural placeholder
 * becomes that value; a placeholder nobody fills is a problem, so a template edit cannot ship
 * `${{...}}` to Teams.
 */
function fill(node: Json, values: Record<Placeholder, string>, structures: Record<string, Json>, problems: string[]): Json {
  if (typeof node === 'string') {
    const whole = /^\$\{\{([A-Za-z0-9_]+)\}\}$/.exec(node);
    if (whole && Object.hasOwn(structures, whole[1]!)) return structures[whole[1]!]!;
    return node.replace(/\$\{\{([A-Za-z0-9_]+)\}\}/g, (match, name: string) => {
      if (Object.hasOwn(values, name)) return values[name as Placeholder];
      problems.push(`manifest/manifest.template.json: ${match} is not a placeholder the builder fills`);
      return match;
    });
  }
  if (Array.isArray(node)) return node.map((item) => fill(item, values, structures, problems));
  if (isObject(node)) {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, fill(value, values, structures, problems)]));
  }
  return node;
}

function isObject(node: Json): node is { [key: string]: Json } {
  return typeof node === 'object' && node !== null && !Array.isArray(node);
}

/** Schema violations as "manifest.json <path>: <message>" lines; empty when valid. */
async function validateManifest(manifest: Json): Promise<string[]> {
  const schema = JSON.parse(await readFile(projectPath('manifest', 'schema', SCHEMA_FILE), 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv({
    allErrors: true,
    // The official schema leaves out `type` next to some keywords; that is theirs to fix, not ours.
    strictTypes: false,
    // Its patterns are written for non-Unicode regular expressions (e.g. a bare `]`).
    unicodeRegExp: false,
    // Its only format; checked here rather than with ajv-formats to keep dependencies as they are.
    formats: { uri: (value: string) => parseUrl(value) !== undefined },
  });
  const validate = ajv.compile(schema);
  if (validate(manifest)) return [];
  return (validate.errors ?? []).map((e) => `manifest.json ${e.instancePath || '/'}: ${e.message ?? e.keyword}${detail(e)}`);
}

function detail(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (typeof params.additionalProperty === 'string') return ` (${params.additionalProperty})`;
  if (Array.isArray(params.allowedValues)) return ` (${params.allowedValues.join(', ')})`;
  return '';
}

/** The icons from manifest/, checked to be PNGs of the sizes Teams requires. */
async function readIcons(problems: string[]): Promise<{ name: string; data: Buffer }[]> {
  const icons: { name: string; data: Buffer }[] = [];
  for (const { name, size } of ICONS) {
    const path = projectPath('manifest', name);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch {
      problems.push(`manifest/${name}: missing (npx ts-node scripts/make-icons.ts draws it)`);
      continue;
    }
    // IHDR is always the first chunk: width and height at bytes 16 and 20.
    const isPng = data.length >= 24 && data.subarray(0, 8).equals(PNG_SIGNATURE) && data.toString('latin1', 12, 16) === 'IHDR';
    if (!isPng) problems.push(`manifest/${name}: not a PNG file`);
    else if (data.readUInt32BE(16) !== size || data.readUInt32BE(20) !== size) {
      problems.push(`manifest/${name}: is ${data.readUInt32BE(16)}×${data.readUInt32BE(20)} pixels, Teams requires ${size}×${size}`);
    } else icons.push({ name, data });
  }
  return icons;
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(projectPath('package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '';
}
