import { createPublicKey, JsonWebKey, KeyObject } from 'node:crypto';

/**
 * Where the public keys that sign Teams SSO tokens come from. A port so that tests verify tokens
 * against a key pair of their own (served by a local JWKS server) and never reach Microsoft.
 */
export interface SigningKeys {
  /**
   * The RSA public key with this key id, or undefined when the source does not know it.
   * @throws SigningKeysUnavailableError when the keys cannot be had at all (no copy, fetch failed).
   */
  key(kid: string): Promise<KeyObject | undefined>;
}

/** Microsoft Entra's signing keys, for v1 (`sts.windows.net`) and v2 (`login.microsoftonline.com`) tokens alike. */
export const ENTRA_JWKS_URL = 'https://login.microsoftonline.com/common/discovery/v2.0/keys';

/** The keys could not be fetched and there is no earlier copy: nobody's sign-in can be checked now. */
export class SigningKeysUnavailableError extends Error {}

export interface JwksOptions {
  /** Replaces the global fetch (tests). */
  fetch?: typeof fetch;
  /** How long a fetched key set is used before it is fetched again. Default 24 hours (Entra rolls keys over days). */
  cacheMs?: number;
  /** An unknown key id fetches the set again at most this often (key rollover), so forged ids cannot hammer Entra. Default 5 minutes. */
  minRefreshMs?: number;
  /** Abandon a fetch after this long. Default 5 s. */
  timeoutMs?: number;
  clock?: () => number;
}

/** The most a key set may weigh: Entra's is a few kilobytes. */
const MAX_JWKS_BYTES = 1024 * 1024;

interface KeySet {
  keys: Map<string, KeyObject>;
  at: number;
}

/**
 * Keys from a JWKS document (RFC 7517) at `url`, cached. A key id not in the cache fetches the
 * set again (rate-limited by `minRefreshMs`); concurrent requests share one fetch. When a refetch
 * fails the previous set keeps being used.
 */
export function jwksKeys(url: string, options: JwksOptions = {}): SigningKeys {
  const doFetch = options.fetch ?? fetch;
  const cacheMs = options.cacheMs ?? 24 * 3600_000;
  const minRefreshMs = options.minRefreshMs ?? 5 * 60_000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const clock = options.clock ?? Date.now;
  let current: KeySet | undefined;
  let lastAttempt = -Infinity;
  let inFlight: Promise<KeySet | undefined> | undefined;

  const load = async (): Promise<KeySet> => {
    const response = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const text = await response.text();
    if (text.length > MAX_JWKS_BYTES) throw new Error('key set too large');
    return { keys: parseJwks(JSON.parse(text) as unknown), at: clock() };
  };

  const refresh = (): Promise<KeySet | undefined> => {
    inFlight ??= (async () => {
      lastAttempt = clock();
      try {
        current = await load();
      } catch (err) {
        if (!current) throw new SigningKeysUnavailableError(`cannot fetch the signing keys from ${url}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        inFlight = undefined;
      }
      return current;
    })();
    return inFlight;
  };

  return {
    async key(kid: string): Promise<KeyObject | undefined> {
      const now = clock();
      const fresh = current && now - current.at < cacheMs;
      if (fresh && current!.keys.has(kid)) return current!.keys.get(kid);
      if (!fresh || now - lastAttempt >= minRefreshMs) await refresh();
      return current?.keys.get(kid);
    },
  };
}

/** The RSA signing keys of a JWKS document; other keys (encryption, EC) are left out. */
export function parseJwks(doc: unknown): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('not a JWKS document (no "keys" list)');
  for (const k of keys as Record<string, unknown>[]) {
    if (!k || typeof k !== 'object' || k.kty !== 'RSA' || typeof k.kid !== 'string' || typeof k.n !== 'string' || typeof k.e !== 'string') continue;
    if (k.use !== undefined && k.use !== 'sig') continue;
    try {
      const key = createPublicKey({ key: { kty: 'RSA', n: k.n, e: k.e } as JsonWebKey, format: 'jwk' });
      // Entra's keys are 2048-bit; anything shorter is damaged or not a key we should trust.
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) out.set(k.kid, key);
    } catch {
      // One damaged key must not take the others with it.
    }
  }
  return out;
}
