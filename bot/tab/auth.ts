import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { Person, UserDirectory } from '../../src/directory/user-directory';
import { SigningKeysUnavailableError } from './signing-keys';
import { SsoOptions, TokenError, verifySsoToken } from './sso-token';

/**
 * Who is asking the dashboard's API. Two ways in, never both:
 * - Teams (the bot has credentials): a Teams SSO token in `Authorization: Bearer …`, verified
 *   against Entra's keys; the person is the directory entry of the token's object id.
 * - Local mode (the bot runs anonymous, on 127.0.0.1 only): requests from this machine act as
 *   the person `npm start -- --as` chose. Nothing else is accepted, not even a token.
 * Either way the role comes from the directory, never from the request.
 */
export interface TabUser {
  person: Person;
  via: 'sso' | 'local';
  /** Entra object id from the token (SSO), or the directory's. */
  aadObjectId: string;
}

/** A person, or the refusal to answer with: 401 (who are you?), 403 (not for you), 503 (cannot check now). */
export type AuthResult =
  | { ok: true; user: TabUser }
  | { ok: false; status: 401 | 403 | 503; error: 'unauthorized' | 'forbidden' | 'unavailable'; message: string; challenge?: string };

/** How requests authenticate: the bot's mode decides (anonymous: local, with credentials: SSO). */
export type TabAuthMode =
  | { kind: 'local'; localUser: () => Person | undefined }
  | { kind: 'sso'; sso: SsoOptions };

/** What the authenticator reads of a request (restify's Request has these). */
export interface AuthRequest {
  headers: IncomingHttpHeaders;
  socket: { remoteAddress?: string | undefined };
}

/** Decides who a request is from; never throws for a bad token (that is a 401), only for a bug. */
export type Authenticator = (req: AuthRequest) => Promise<AuthResult>;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (`::ffff:127.0.0.1`). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}

/** The host name of a Host header, without the port. */
function hostName(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const m = /^(\[[0-9a-f:.]+\]|[^:]+)(?::\d{1,5})?$/i.exec(host.trim());
  return m?.[1]?.toLowerCase();
}

const refuse = (status: 401 | 403 | 503, message: string, challenge?: string): AuthResult => ({
  ok: false,
  status,
  error: status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : 'unavailable',
  message,
  ...(challenge ? { challenge } : {}),
});

/** Builds the authenticator for the bot's mode. */
export function createAuthenticator(mode: TabAuthMode, directory: UserDirectory): Authenticator {
  if (mode.kind === 'local') return (req) => Promise.resolve(authenticateLocal(req, mode.localUser));
  return (req) => authenticateSso(req, mode.sso, directory);
}

function authenticateLocal(req: AuthRequest, localUser: () => Person | undefined): AuthResult {
  // A proxy in front would make every visitor look local: forwarded requests are never "this machine".
  const forwarded = req.headers.forwarded !== undefined || req.headers['x-forwarded-for'] !== undefined;
  // The Host check stops DNS rebinding: a web page whose name points at 127.0.0.1 sends its own name.
  if (forwarded || !isLoopbackAddress(req.socket.remoteAddress) || !LOOPBACK_HOSTS.has(hostName(req.headers.host) ?? '')) {
    return refuse(401, 'The bot runs without sign-in (local mode): only this machine may use the dashboard, at http://localhost or http://127.0.0.1.');
  }
  const person = localUser();
  if (!person) return refuse(403, 'Local mode has no user to act as: start the bot with npm start (optionally -- --as <user id or login>).');
  return { ok: true, user: { person, via: 'local', aadObjectId: person.aadObjectId } };
}

async function authenticateSso(req: AuthRequest, sso: SsoOptions, directory: UserDirectory): Promise<AuthResult> {
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) return refuse(401, 'Sign-in required: open the dashboard in Microsoft Teams (requests need a Teams SSO token: Authorization: Bearer <token>).', 'Bearer');
  let claims;
  try {
    claims = await verifySsoToken(m[1]!, sso);
  } catch (err) {
    if (err instanceof TokenError) {
      return refuse(401, `Sign-in not accepted: ${err.message}. Reload the tab in Teams to sign in again.`, `Bearer error="invalid_token", error_description="${err.problem}"`);
    }
    if (err instanceof SigningKeysUnavailableError) return refuse(503, 'Sign-in cannot be checked right now (Microsoft Entra keys unavailable). Please try again in a minute.');
    throw err;
  }
  const byOid = directory.byAadObjectId(claims.oid);
  // The UPN only stands in for directory rows without an object id; a row with another id is someone else.
  const byUpn = !byOid && claims.preferredUsername ? directory.byUserPrincipalName(claims.preferredUsername) : undefined;
  const person = byOid ?? (byUpn && (!byUpn.aadObjectId || byUpn.aadObjectId.toLowerCase() === claims.oid.toLowerCase()) ? byUpn : undefined);
  if (!person) {
    return refuse(403, `Your account (${claims.preferredUsername ?? claims.oid}) is not in the user directory, so the dashboard cannot tell your role. Ask your administrator to add you.`);
  }
  return { ok: true, user: { person, via: 'sso', aadObjectId: claims.oid } };
}
