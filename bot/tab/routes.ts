import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Request, Response, Server } from 'restify';
import { Person } from '../../src/directory/user-directory';
import { StoreUnavailableError } from '../../src/logs/log-store';
import { projectPath } from '../../src/paths';
import { BotServices } from '../conversation';
import { ApiRequest, ApiResponse, BadRequest, tabApi } from './api';
import { AuthRequest, createAuthenticator, TabAuthMode } from './auth';
import { configurePage, dashboardPage } from './pages';
import { ENTRA_JWKS_URL, jwksKeys } from './signing-keys';
import { SsoOptions } from './sso-token';

/**
 * The dashboard tab on the bot's restify server (wired through `createServer({ routes })`):
 * - pages: /tab/ (incidents), /tab/incidents/:id, /tab/rules, /tab/trend, /tab/ask, /tab/configure;
 * - assets: /tab/assets/* (the page scripts and styles of bot/tab/web, and teams-js's own UMD
 *   bundle from node_modules: nothing loads from the internet);
 * - the JSON API: /tab/api/* (api.ts), every request authenticated (auth.ts).
 */
export interface TabRoutesOptions {
  services: BotServices;
  /** Local mode: the person `npm start -- --as` chose; requests from this machine act as them. */
  localUser: () => Person | undefined;
  /** The release to mark on the trend chart (ISO 8601 with offset, `SUPPORTBOT_RELEASE_AT`). */
  releaseAt?: string;
  /**
   * The host of the manifest's `webApplicationInfo.resource` (`BOT_DOMAIN`). Teams SSO tokens in
   * Entra's v1 format (the default for app registrations) carry `api://<BOT_DOMAIN>/<app id>` as
   * their audience: without it only v2 tokens are accepted.
   */
  botDomain?: string;
  /**
   * Teams SSO. Defaults: `clientId` the bot's app id, `tenantId` the bot's tenant for single-tenant
   * apps, `audiences` the app id, `api://<app id>` and (with `botDomain`) `api://<BOT_DOMAIN>/<app id>`,
   * `keys` Microsoft Entra's JWKS (fetched on the first sign-in, then cached).
   */
  sso?: Partial<SsoOptions>;
  /** How requests authenticate. Default: `local` when the bot runs anonymous, else `sso`. */
  mode?: 'local' | 'sso';
}

/** Where Teams (web, desktop, Outlook, Microsoft 365) frames tabs from. */
const TEAMS_FRAME_ANCESTORS = [
  'https://teams.microsoft.com',
  'https://*.teams.microsoft.com',
  'https://teams.microsoft.us',
  'https://*.teams.microsoft.us',
  'https://teams.live.com',
  'https://*.cloud.microsoft',
  'https://*.office.com',
  'https://*.office365.com',
  'https://*.microsoft365.com',
  'https://*.skype.com',
];

const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** The page assets, read once when the routes are made (a missing file fails the start, not a request). */
function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const add = (name: string, file: string) => {
    const body = readFileSync(file);
    const ext = name.slice(name.lastIndexOf('.') + 1);
    assets.set(name, { body, type: CONTENT_TYPES[ext]!, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  };
  // The web sources are read from the project, not from dist/: tsc compiles only TypeScript.
  const web = projectPath('bot', 'tab', 'web');
  for (const name of readdirSync(web)) if (/^[a-z0-9-]+\.(js|css|svg)$/.test(name)) add(name, join(web, name));
  add('teams-js.min.js', require.resolve('@microsoft/teams-js'));
  return assets;
}

/** Routes for `createServer({ routes })`. Throws on a bad option (a configuration error at start). */
export function tabRoutes(options: TabRoutesOptions): (server: Server) => void {
  const { services } = options;
  const config = services.engine.config;
  if (options.releaseAt !== undefined && Number.isNaN(Date.parse(options.releaseAt))) throw new Error(`releaseAt: '${options.releaseAt}' is not an ISO 8601 instant`);
  const modeKind = options.mode ?? (config.bot.anonymous ? 'local' : 'sso');
  let mode: TabAuthMode;
  if (modeKind === 'local') mode = { kind: 'local', localUser: options.localUser };
  else {
    const clientId = options.sso?.clientId ?? config.bot.appId;
    if (!clientId) throw new Error('the dashboard needs the app id for Teams SSO (MicrosoftAppId)');
    const singleTenant = config.bot.appType === 'SingleTenant' || config.bot.appType === 'UserAssignedMSI';
    const tenantId = options.sso?.tenantId ?? (singleTenant ? config.bot.tenantId : undefined);
    const audiences = options.sso?.audiences ?? [clientId, `api://${clientId}`, ...(options.botDomain ? [`api://${options.botDomain}/${clientId}`] : [])];
    mode = {
      kind: 'sso',
      sso: {
        ...options.sso,
        clientId,
        audiences,
        ...(tenantId ? { tenantId } : {}),
        keys: options.sso?.keys ?? jwksKeys(ENTRA_JWKS_URL),
      },
    };
  }
  const authenticate = createAuthenticator(mode, services.engine.directory);
  const api = tabApi({ services, ...(options.releaseAt ? { releaseAt: new Date(Date.parse(options.releaseAt)).toISOString() } : {}) });
  const assets = loadAssets();
  const logger = services.logger.child({ component: 'tab' });

  // Local mode may be framed by a host on this machine (a Teams emulator); Teams mode by Teams only.
  const ancestors = ["'self'", ...TEAMS_FRAME_ANCESTORS, ...(modeKind === 'local' ? ['http://localhost:*', 'http://127.0.0.1:*'] : [])];
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    // teams-js refreshes its list of Teams hosts from Microsoft's CDN when it can (it has one built in).
    "connect-src 'self' https://res.cdn.office.net",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${ancestors.join(' ')}`,
  ].join('; ');

  const html = (body: string) => async (_req: Request, res: Response): Promise<void> => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('content-security-policy', csp);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('cache-control', 'no-cache');
    res.sendRaw(200, body);
  };

  const send = (res: Response, result: ApiResponse) => {
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    res.json(result.status, result.body);
  };

  /**
   * A change must come from our own page: JSON only (a cross-site form or a "simple" request
   * cannot send it without a CORS preflight we never grant), and no foreign Origin. In local mode,
   * where the browser is trusted by where it runs, this is what stops another site's page from
   * acting as the local user.
   */
  const foreignWrite = (req: Request): ApiResponse | undefined => {
    if (!/^application\/json(;|$)/i.test(req.headers['content-type'] ?? '')) return { status: 415, body: { error: 'unsupported-media-type', message: 'Send JSON (Content-Type: application/json).' } };
    const origin = req.headers.origin;
    let sameOrigin = true;
    if (origin !== undefined) {
      try {
        sameOrigin = new URL(origin).host === req.headers.host;
      } catch {
        sameOrigin = false;
      }
    }
    const site = req.headers['sec-fetch-site'];
    if (!sameOrigin || (site !== undefined && site !== 'same-origin' && site !== 'none')) return { status: 403, body: { error: 'forbidden', message: 'Changes are accepted from the dashboard page only.' } };
    return undefined;
  };

  const handle =
    (fn: (req: ApiRequest) => ApiResponse | Promise<ApiResponse>, write = false) =>
    async (req: Request, res: Response): Promise<void> => {
      try {
        const refused = write ? foreignWrite(req) : undefined;
        if (refused) return send(res, refused);
        const auth = await authenticate(req as unknown as AuthRequest);
        if (!auth.ok) {
          if (auth.challenge) res.setHeader('www-authenticate', auth.challenge);
          logger.warn('dashboard request refused', { status: auth.status, path: req.getPath(), remote: req.socket.remoteAddress });
          return send(res, { status: auth.status, body: { error: auth.error, message: auth.message } });
        }
        const query = req.query && typeof req.query === 'object' ? (req.query as Record<string, unknown>) : {};
        send(res, await fn({ user: auth.user, query, params: (req.params ?? {}) as Record<string, string | undefined>, body: req.body as unknown }));
      } catch (err) {
        if (err instanceof BadRequest) return send(res, { status: 400, body: { error: 'bad-request', message: `${err.message.charAt(0).toUpperCase()}${err.message.slice(1)}.` } });
        if (err instanceof StoreUnavailableError) {
          logger.warn('log store unavailable', { detail: err.message });
          return send(res, { status: 503, body: { error: 'unavailable', message: err.userMessage } });
        }
        // The person gets a reference; the details stay in our logs.
        const correlationId = randomUUID();
        logger.error('dashboard request failed', { correlationId, path: req.getPath(), error: err as Error });
        send(res, { status: 500, body: { error: 'internal', message: `Something went wrong. Reference: ${correlationId}` } });
      }
    };

  return (server: Server) => {
    server.get('/tab', async (_req: Request, res: Response) => {
      res.setHeader('location', '/tab/');
      res.sendRaw(302, '');
    });
    const shell = html(dashboardPage());
    for (const path of ['/tab/', '/tab/rules', '/tab/trend', '/tab/ask', '/tab/incidents/:id']) server.get(path, shell);
    server.get('/tab/configure', html(configurePage()));
    server.get('/tab/assets/:name', async (req: Request, res: Response) => {
      const asset = assets.get(String(req.params?.name ?? ''));
      if (!asset) {
        send(res, { status: 404, body: { error: 'not-found', message: 'No such file.' } });
        return;
      }
      res.setHeader('content-type', asset.type);
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('cache-control', 'no-cache');
      res.setHeader('etag', asset.etag);
      if (req.headers['if-none-match'] === asset.etag) {
        res.sendRaw(304, '');
        return;
      }
      res.sendRaw(200, asset.body);
    });

    server.get('/tab/api/me', handle((r) => api.me(r)));
    server.get('/tab/api/incidents', handle((r) => api.incidents(r)));
    server.get('/tab/api/incidents/:id', handle((r) => api.incident(r)));
    server.post('/tab/api/incidents/:id/acknowledge', handle((r) => api.acknowledge(r), true));
    server.post('/tab/api/incidents/:id/resolve', handle((r) => api.resolve(r), true));
    server.get('/tab/api/rules', handle((r) => api.rules(r)));
    server.get('/tab/api/trend', handle((r) => api.trend(r)));
    server.get('/tab/api/ask', handle((r) => api.ask(r)));
  };
}
