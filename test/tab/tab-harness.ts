/**
 * What the dashboard tests share: the bot over the sample week with its incidents, served with the
 * tab routes on 127.0.0.1 (local mode or Teams SSO); an RSA key pair of our own with a JWKS served
 * by a local HTTP server (so SSO validation never reaches Microsoft); tokens shaped like Teams'
 * SSO tokens; and plain HTTP requests with every header under the test's control.
 */
import { generateKeyPairSync, KeyObject, randomUUID, sign } from 'node:crypto';
import { createServer as createHttpServer, request as httpRequest, Server as HttpServer } from 'node:http';
import { AddressInfo } from 'node:net';
import type { Server } from 'restify';
import { createServer } from '../../bot/server';
import { tabRoutes } from '../../bot/tab/routes';
import { jwksKeys } from '../../bot/tab/signing-keys';
import { Person } from '../../src/directory/user-directory';
import { botHarness, BotHarness, PEOPLE } from '../support/bot';

/** The app id the test tokens are for (the manifest's webApplicationInfo.id). */
export const CLIENT_ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
export const TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';
/** The sample's release (samples/contoso/README.md: "after the release on Wednesday 06:00"). */
export const RELEASE_AT = '2020-06-10T06:00:00+02:00';

/** An RSA signing key with its key id, as Entra publishes them. */
export interface TestKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function newKey(kid = `test-key-${randomUUID().slice(0, 8)}`): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicKey };
}

/** A JWKS document of these keys (public halves only). */
export function jwks(keys: TestKey[]): { keys: Record<string, unknown>[] } {
  return { keys: keys.map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, use: 'sig', alg: 'RS256' })) };
}

/** A local JWKS endpoint; `keys` can be changed while it runs (rollover), `fail` makes it answer 500. */
export interface JwksServer {
  url: string;
  keys: TestKey[];
  fail: boolean;
  hits: number;
  close(): Promise<void>;
}

export async function startJwksServer(keys: TestKey[]): Promise<JwksServer> {
  const state = { keys, fail: false, hits: 0 };
  const server: HttpServer = createHttpServer((_req, res) => {
    state.hits++;
    // Separate calls: restify patches http.ServerResponse, and its writeHead does not return the response.
    if (state.fail) {
      res.writeHead(500);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(jwks(state.keys)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/discovery/v2.0/keys`;
  return Object.assign(state, {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs a JWT with RS256 (or puts any header in, to test what must be refused). */
export function signToken(claims: Record<string, unknown>, key: TestKey, header: Record<string, unknown> = {}): string {
  const head = b64({ alg: 'RS256', typ: 'JWT', kid: key.kid, ...header });
  const body = b64(claims);
  const signature = sign('RSA-SHA256', Buffer.from(`${head}.${body}`), key.privateKey).toString('base64url');
  return `${head}.${body}.${signature}`;
}

/** The claims of a Teams SSO token (v2) for someone, valid for an hour from now. */
export function ssoClaims(who: { aadObjectId: string; name?: string }, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    aud: CLIENT_ID,
    iss: `https://login.microsoftonline.com/${TENANT_ID}/v2.0`,
    iat: now - 60,
    nbf: now - 60,
    exp: now + 3600,
    name: who.name ?? 'Someone',
    oid: who.aadObjectId,
    preferred_username: 'someone@contoso.example',
    scp: 'access_as_user',
    tid: TENANT_ID,
    ver: '2.0',
    azp: '5e3ce6c0-2b1f-4285-8d4b-75ee78787346',
    ...overrides,
  };
}

/** A running bot with the tab routes. */
export interface TabServer {
  url: string;
  port: number;
  h: BotHarness;
  server: Server;
  /** In SSO mode: the JWKS server and the key it publishes. */
  jwks?: JwksServer;
  key?: TestKey;
  /** A valid token for someone (SSO mode). */
  tokenFor(who: { aadObjectId: string; name?: string }, overrides?: Record<string, unknown>): string;
  close(): Promise<void>;
}

export interface TabServerOptions {
  mode: 'local' | 'sso';
  /** Local mode: who the local user is (a user id of the sample directory); 'none' for nobody. */
  localUser?: string;
}

/**
 * The sample week run through the alert engine (incidents, cards sent and recorded, the support
 * channel subscribed to every rule), served with the tab on a free port of 127.0.0.1.
 */
export async function startTabServer(options: TabServerOptions): Promise<TabServer> {
  const h = await botHarness({ alerts: {} });
  const alerts = h.services.alerts!;
  alerts.state.subscribe('19:support@thread.tacv2', '*', 'test', h.clock());
  await h.settle();
  const directory = h.engine.directory;
  const local: Person | undefined = options.localUser === 'none' ? undefined : directory.byUserId(options.localUser ?? '1011');
  let jwksServer: JwksServer | undefined;
  let key: TestKey | undefined;
  if (options.mode === 'sso') {
    key = newKey();
    jwksServer = await startJwksServer([key]);
  }
  const server = createServer({
    adapter: undefined as never,
    bot: h.bot,
    metrics: h.services.metrics,
    logger: h.services.logger,
    logStore: h.engine.logStore,
    routes: tabRoutes({
      services: h.services,
      localUser: () => local,
      releaseAt: RELEASE_AT,
      mode: options.mode,
      ...(jwksServer ? { sso: { clientId: CLIENT_ID, tenantId: TENANT_ID, audiences: [CLIENT_ID, `api://localhost/${CLIENT_ID}`], keys: jwksKeys(jwksServer.url) } } : {}),
    }),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    h,
    server,
    ...(jwksServer ? { jwks: jwksServer } : {}),
    ...(key ? { key } : {}),
    tokenFor: (who, overrides = {}) => {
      if (!key) throw new Error('tokens are for SSO mode');
      return signToken(ssoClaims(who, overrides), key);
    },
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await jwksServer?.close();
      await h.dispose();
    },
  };
}

/** An answer to {@link call}. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  text: string;
}

/**
 * One HTTP request with exactly these headers (fetch would not let a test set Host or leave out
 * its own), JSON body if given.
 */
export function call(base: string, method: string, path: string, options: { headers?: Record<string, string>; json?: unknown; body?: string } = {}): Promise<Reply> {
  const url = new URL(path, base);
  const payload = options.json !== undefined ? JSON.stringify(options.json) : options.body;
  const headers: Record<string, string> = { ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers };
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path: `${url.pathname}${url.search}`, headers, setHost: !('host' in headers) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // not JSON (pages, assets)
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Everyone the tests act as, from the sample directory. */
export const WHO = {
  support: PEOPLE.support,
  supervisor: PEOPLE.supervisor1087,
  user: PEOPLE.user1087,
  stranger: PEOPLE.stranger,
} as const;
