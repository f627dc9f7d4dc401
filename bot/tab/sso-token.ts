import { verify as verifySignature } from 'node:crypto';
import { SigningKeys } from './signing-keys';

/**
 * Teams SSO tokens (`authentication.getAuthToken()` in the tab): Microsoft Entra access tokens for
 * the app's own API, checked here with nothing but node:crypto — the RS256 signature against
 * Entra's published keys, then lifetime, audience, issuer and tenant. Nothing the token itself
 * names (`jku`, `x5u`, `jwk`, another `alg`) is ever followed.
 */
export interface SsoOptions {
  /** The Entra app id of the tab (the manifest's `webApplicationInfo.id`: the bot's app id). */
  clientId: string;
  /**
   * Accepted `aud` values. Default: the app id (v2 tokens) and `api://<app id>`. Add the manifest's
   * `webApplicationInfo.resource`, `api://<BOT_DOMAIN>/<app id>`, which v1 tokens carry.
   */
  audiences?: string[];
  /** When set, only tokens of this tenant (single-tenant apps). */
  tenantId?: string;
  keys: SigningKeys;
  /** Milliseconds since the epoch. Default Date.now (token lifetimes are real time, not the demo clock). */
  clock?: () => number;
  /** Clock difference tolerated between Entra and this server, seconds. Default 300. */
  clockToleranceSec?: number;
}

/** The claims the tab uses, from a verified token. */
export interface SsoClaims {
  /** Entra object id of the user: how the directory knows them. */
  oid: string;
  tid: string;
  aud: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  name?: string;
  /** The sign-in name (UPN) the user typed. */
  preferredUsername?: string;
  scp?: string;
}

/** What is wrong with a refused token (the `error_description` of the 401's challenge). */
export type TokenProblem =
  | 'malformed'
  | 'algorithm'
  | 'unknown-key'
  | 'signature'
  | 'expired'
  | 'not-yet-valid'
  | 'audience'
  | 'issuer'
  | 'tenant'
  | 'claims';

/** The token is not acceptable; `message` is safe to show (it says what, never echoes the token). */
export class TokenError extends Error {
  constructor(
    readonly problem: TokenProblem,
    message: string,
  ) {
    super(message);
  }
}

const MAX_TOKEN_LENGTH = 16 * 1024;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function decodeJson(part: string, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new TokenError('malformed', `the token's ${what} is not a JSON object`);
}

/**
 * Verifies a Teams SSO token and returns its claims.
 * @throws TokenError naming the first problem found (signature before claims: nothing unsigned is trusted).
 * @throws SigningKeysUnavailableError when the keys cannot be fetched (the caller answers 503).
 */
export async function verifySsoToken(token: string, options: SsoOptions): Promise<SsoClaims> {
  if (token.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(token)) throw new TokenError('malformed', 'the token is not a JSON Web Token');
  const [headerPart, payloadPart, signaturePart] = token.split('.') as [string, string, string];
  const header = decodeJson(headerPart, 'header');
  // Pinned: RS256 only. "none" or HS256 (a public key used as an HMAC secret) must never pass.
  if (header.alg !== 'RS256') throw new TokenError('algorithm', `tokens signed with ${typeof header.alg === 'string' ? header.alg.slice(0, 10) : 'no algorithm'} are not accepted (RS256 only)`);
  if (header.crit !== undefined) throw new TokenError('malformed', 'the token has critical header extensions');
  if (typeof header.kid !== 'string' || !header.kid || header.kid.length > 200) throw new TokenError('malformed', 'the token names no signing key');
  const key = await options.keys.key(header.kid);
  if (!key || key.asymmetricKeyType !== 'rsa') throw new TokenError('unknown-key', 'the token is signed with a key Microsoft Entra does not publish');
  const signed = verifySignature('RSA-SHA256', Buffer.from(`${headerPart}.${payloadPart}`), key, Buffer.from(signaturePart, 'base64url'));
  if (!signed) throw new TokenError('signature', 'the token signature is not valid');

  const claims = decodeJson(payloadPart, 'payload');
  const now = (options.clock ?? Date.now)() / 1000;
  const tolerance = options.clockToleranceSec ?? 300;
  if (typeof claims.exp !== 'number') throw new TokenError('claims', 'the token has no expiry');
  if (now > claims.exp + tolerance) throw new TokenError('expired', 'the token has expired');
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || now + tolerance < claims.nbf)) throw new TokenError('not-yet-valid', 'the token is not valid yet');

  const audiences = options.audiences ?? [options.clientId, `api://${options.clientId}`];
  const aud = Array.isArray(claims.aud) ? claims.aud.find((a) => typeof a === 'string' && audiences.includes(a)) : claims.aud;
  if (typeof aud !== 'string' || !audiences.includes(aud)) throw new TokenError('audience', 'the token is for another application');

  const tid = claims.tid;
  if (typeof tid !== 'string' || !GUID.test(tid)) throw new TokenError('claims', 'the token names no tenant');
  const issuers = [`https://login.microsoftonline.com/${tid}/v2.0`, `https://sts.windows.net/${tid}/`];
  if (typeof claims.iss !== 'string' || !issuers.includes(claims.iss)) throw new TokenError('issuer', 'the token was not issued by Microsoft Entra for its tenant');
  if (options.tenantId && tid.toLowerCase() !== options.tenantId.toLowerCase()) throw new TokenError('tenant', "the token is from another organisation's tenant");
  if (typeof claims.oid !== 'string' || !GUID.test(claims.oid)) throw new TokenError('claims', 'the token names no user (oid)');

  const out: SsoClaims = { oid: claims.oid, tid, aud, exp: claims.exp };
  if (typeof claims.name === 'string') out.name = claims.name;
  const username = typeof claims.preferred_username === 'string' ? claims.preferred_username : typeof claims.upn === 'string' ? claims.upn : undefined;
  if (username) out.preferredUsername = username;
  if (typeof claims.scp === 'string') out.scp = claims.scp;
  return out;
}
