/**
 * Teams SSO token validation against a key pair made here and a JWKS served on 127.0.0.1: what
 * passes, and everything that must not (expired, another audience, a forged signature, another
 * tenant, "alg": "none", HS256 with the public key as secret, …). Also key rollover and a key
 * endpoint that is down.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { jwksKeys, parseJwks, SigningKeysUnavailableError } from '../../bot/tab/signing-keys';
import { SsoOptions, TokenError, TokenProblem, verifySsoToken } from '../../bot/tab/sso-token';
import { CLIENT_ID, JwksServer, newKey, signToken, ssoClaims, startJwksServer, TENANT_ID, TestKey, WHO } from './tab-harness';

describe('tab: Teams SSO token validation', function () {
  this.timeout(30_000);
  let key: TestKey;
  let server: JwksServer;
  let options: SsoOptions;

  before(async () => {
    key = newKey('entra-key-1');
    server = await startJwksServer([key]);
  });
  beforeEach(() => {
    server.keys = [key];
    server.fail = false;
    options = { clientId: CLIENT_ID, tenantId: TENANT_ID, audiences: [CLIENT_ID, `api://supportbot.contoso.example/${CLIENT_ID}`], keys: jwksKeys(server.url) };
  });
  after(async () => server.close());

  const claims = (overrides: Record<string, unknown> = {}) => ssoClaims(WHO.support, overrides);

  async function refused(token: string, problem: TokenProblem, opts: SsoOptions = options): Promise<void> {
    await assert.rejects(verifySsoToken(token, opts), (err: unknown) => {
      assert.ok(err instanceof TokenError, `expected a TokenError, got ${String(err)}`);
      assert.equal(err.problem, problem, err.message);
      assert.ok(!err.message.includes(token.slice(0, 20)), 'the message never echoes the token');
      return true;
    });
  }

  it('accepts a valid v2 token and returns who it is for', async () => {
    const c = await verifySsoToken(signToken(claims(), key), options);
    assert.equal(c.oid, WHO.support.aadObjectId);
    assert.equal(c.tid, TENANT_ID);
    assert.equal(c.aud, CLIENT_ID);
    assert.equal(c.preferredUsername, 'someone@contoso.example');
  });

  it('accepts a v1 token (issuer sts.windows.net, audience api://<domain>/<app id>)', async () => {
    const c = await verifySsoToken(signToken(claims({ iss: `https://sts.windows.net/${TENANT_ID}/`, aud: `api://supportbot.contoso.example/${CLIENT_ID}`, ver: '1.0' }), key), options);
    assert.equal(c.aud, `api://supportbot.contoso.example/${CLIENT_ID}`);
  });

  it('refuses an expired token, and one not valid yet (5 minutes of clock difference tolerated)', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(signToken(claims({ exp: now - 301 }), key), 'expired');
    await verifySsoToken(signToken(claims({ exp: now - 200 }), key), options);
    await refused(signToken(claims({ nbf: now + 600 }), key), 'not-yet-valid');
    await refused(signToken(claims({ exp: undefined }), key), 'claims');
  });

  it('refuses a token for another application', async () => {
    await refused(signToken(claims({ aud: '00000003-0000-0000-c000-000000000000' }), key), 'audience');
    await refused(signToken(claims({ aud: `api://evil.example/${CLIENT_ID}` }), key), 'audience');
    await refused(signToken(claims({ aud: [] }), key), 'audience');
  });

  it('refuses a wrong signature: another key under the published key id, or a changed payload', async () => {
    const impostor = newKey(key.kid);
    await refused(signToken(claims(), impostor), 'signature');
    const [head, , sig] = signToken(claims(), key).split('.');
    const forged = Buffer.from(JSON.stringify(claims({ oid: WHO.supervisor.aadObjectId }))).toString('base64url');
    await refused(`${head}.${forged}.${sig}`, 'signature');
  });

  it('refuses a key id Entra does not publish', async () => {
    await refused(signToken(claims(), newKey('not-published')), 'unknown-key');
  });

  it('refuses "none", HS256 with the public key as the secret, and other algorithms', async () => {
    const body = Buffer.from(JSON.stringify(claims())).toString('base64url');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: key.kid })).toString('base64url')}.${body}.AAAA`;
    await refused(none, 'algorithm');
    const hsHead = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: key.kid })).toString('base64url');
    const secret = key.publicKey.export({ format: 'pem', type: 'spki' });
    const hs = `${hsHead}.${body}.${createHmac('sha256', secret).update(`${hsHead}.${body}`).digest('base64url')}`;
    await refused(hs, 'algorithm');
    await refused(signToken(claims(), key, { alg: 'RS512' }), 'algorithm');
  });

  it('refuses a token from another tenant, or whose issuer does not match its tenant', async () => {
    const other = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    await refused(signToken(claims({ tid: other, iss: `https://login.microsoftonline.com/${other}/v2.0` }), key), 'tenant');
    await refused(signToken(claims({ iss: `https://login.microsoftonline.com/${other}/v2.0` }), key), 'issuer');
    await refused(signToken(claims({ iss: 'https://evil.example/' }), key), 'issuer');
    // Without a pinned tenant (a multi-tenant app), another tenant's token is a valid token; the directory decides.
    const { tenantId: _pinned, ...multi } = options;
    void _pinned;
    const c = await verifySsoToken(signToken(claims({ tid: other, iss: `https://login.microsoftonline.com/${other}/v2.0` }), key), multi);
    assert.equal(c.tid, other);
  });

  it('refuses malformed tokens and tokens without a user', async () => {
    await refused('not a token', 'malformed');
    await refused('a.b', 'malformed');
    await refused(`${'a'.repeat(17_000)}.b.c`, 'malformed');
    await refused(signToken(claims(), key, { kid: undefined }), 'malformed');
    await refused(signToken(claims(), key, { crit: ['exp'] }), 'malformed');
    await refused(signToken(claims({ oid: 'nobody' }), key), 'claims');
    const [head, , sig] = signToken(claims(), key).split('.');
    await refused(`${head}.${Buffer.from('[1,2]').toString('base64url')}.${sig}`, 'signature');
  });

  it('never follows a key URL or key named in the token header (jku, jwk)', async () => {
    const attacker = newKey('attacker');
    const attackerJwks = await startJwksServer([attacker]);
    try {
      const jwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'attacker' };
      await refused(signToken(claims(), attacker, { jku: attackerJwks.url, jwk }), 'unknown-key');
      assert.equal(attackerJwks.hits, 0);
    } finally {
      await attackerJwks.close();
    }
  });

  it('fetches keys again for an unknown key id (rollover), at most every few minutes', async () => {
    let now = Date.now();
    const keys = jwksKeys(server.url, { clock: () => now, minRefreshMs: 60_000 });
    await verifySsoToken(signToken(claims(), key), { ...options, keys });
    const next = newKey('entra-key-2');
    server.keys = [key, next];
    const hits = server.hits;
    // Within a minute of the last fetch, an unknown id does not hit the endpoint again.
    now += 1000;
    await refused(signToken(claims(), next), 'unknown-key', { ...options, keys });
    assert.equal(server.hits, hits);
    now += 60_000;
    await verifySsoToken(signToken(claims(), next), { ...options, keys });
    assert.equal(server.hits, hits + 1);
    // Known ids are served from the cache.
    await verifySsoToken(signToken(claims(), key), { ...options, keys });
    assert.equal(server.hits, hits + 1);
  });

  it('keeps the keys it has when the endpoint fails, and says so when it has none', async () => {
    const keys = jwksKeys(server.url, { minRefreshMs: 0 });
    await verifySsoToken(signToken(claims(), key), { ...options, keys });
    server.fail = true;
    await verifySsoToken(signToken(claims(), key), { ...options, keys });
    await refused(signToken(claims(), newKey('new')), 'unknown-key', { ...options, keys });
    await assert.rejects(verifySsoToken(signToken(claims(), key), { ...options, keys: jwksKeys(server.url) }), SigningKeysUnavailableError);
    await assert.rejects(verifySsoToken(signToken(claims(), key), { ...options, keys: jwksKeys('http://127.0.0.1:9/keys', { timeoutMs: 1000 }) }), SigningKeysUnavailableError);
  });

  it('reads only RSA signing keys from a JWKS document', () => {
    const doc = { keys: [...(parseJwksInput()), { kty: 'EC', kid: 'ec', crv: 'P-256', x: 'a', y: 'b' }, { kty: 'RSA', kid: 'enc', use: 'enc', n: 'AQAB', e: 'AQAB' }, { kty: 'RSA', kid: 'broken', n: '!!', e: '' }, null] };
    assert.deepEqual([...parseJwks(doc).keys()], [key.kid]);
    assert.throws(() => parseJwks({}), /no "keys" list/);
  });

  function parseJwksInput(): Record<string, unknown>[] {
    return [{ ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, use: 'sig' }];
  }
});
