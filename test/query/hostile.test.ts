/**
 * Hostile questions are data: each is refused with a clear answer, or matched literally, on both
 * stores. An answered one returns exactly what its literal reading allows (computed from the truth
 * here), never more; nothing from the store's own errors reaches the asker.
 */
import assert from 'node:assert/strict';
import { DateTime } from 'luxon';
import { loadUserDirectory } from '../../src/directory/user-directory';
import { Asker } from '../../src/query/ask';
import { sampleStore, storeFixtures } from '../support/stores';
import { SAMPLE_DIRECTORY, truthEvents, TruthEvent } from '../support/truth';

const ZONE = 'Europe/Berlin';
const NOW = DateTime.fromISO('2020-06-12T16:30:00', { zone: ZONE });
const TODAY_START = NOW.startOf('day').toMillis();
const truth = truthEvents();
const count = (p: (e: TruthEvent) => boolean) => truth.filter(p).length;
const error = (e: TruthEvent) => e.level === 'error' || e.level === 'fatal';
const today = (e: TruthEvent) => Date.parse(e.time) >= TODAY_START && Date.parse(e.time) < NOW.toMillis();

type Case = [string, 'refused' | number];

const CASES: Case[] = [
  ['user.id:* OR *:*', 'refused'],
  ['errors OR 1=1', 'refused'],
  ['show errors for user 1087 today OR *:*', 'refused'],
  ['"Not authorized" OR "Login"', 'refused'],
  ["user 1087' OR '1'='1", 'refused'],
  ['errors for user 1087; DROP TABLE events; --', 'refused'],
  ['{"query":{"match_all":{}}}', 'refused'],
  ['{"bool":{"should":[{"match_all":{}}]}}', 'refused'],
  ['errors for user *', 'refused'],
  ['errors for user "1087 OR 1088"', 'refused'],
  ['errors for user ../../etc', 'refused'],
  ['count errors by user.id:*', 'refused'],
  ['show "*"', 'refused'],
  ['show "%"', 'refused'],
  ['show "_"', 'refused'],
  ['show ""', 'refused'],
  ['errors "', 'refused'],
  ['<script>alert(1)</script>', 'refused'],
  ['errors 😀', 'refused'],
  ['errors on АPP01', 'refused'],
  ['errors since 9999-99-99', 'refused'],
  ['errors between 25:00 and 26:00', 'refused'],
  ['errors in the last 99999999 days', 'refused'],
  ['top 1000000 errors', 'refused'],
  ['errors except', 'refused'],
  ['errors for me', 'refused'],
  ['errors for Anna Ivanova', 'refused'],
  ['errors for nobody.at.all', 'refused'],
  ['\u0000\u0001\u0002', 'refused'],
  ['x'.repeat(10_000), 'refused'],
  ['errors '.repeat(2000), 'refused'],
  ['${jndi:ldap://evil/x}', 'refused'],
  ['errors at 18:00', 'refused'],
  // Matched literally.
  ['show "); DELETE FROM events; --"', 0],
  ['show "\' OR \'1\'=\'1"', 0],
  ['show "a%b_c"', 0],
  ['errors on /api/documents/../../etc/passwd', 0],
  ['errors on /api/documents/%2e%2e', 0],
  [`errors for user ${'9'.repeat(400)}`, 0],
  ['errors for user 1087 user 1088', 0],
  ['errors for user 1087 except user 1087', 0],
  ['show errors for user 1087\u200b today', 2],
  ['show errors for user \uFF11\uFF10\uFF18\uFF17 today', 2],
  ['show errors \u202Efor user 1087 today', 2],
  ['show   errors\n\tfor user 1087\r\ntoday', 2],
  ['NOT errors today', count((e) => !error(e) && today(e))],
  ['"Login failed" "from 198.51.100.34"', count((e) => e.message.startsWith('Login failed') && e.message.includes('from 198.51.100.34'))],
  ['errors on /api/* today', count((e) => error(e) && today(e) && !!e.path?.startsWith('/api/'))],
];

for (const fixture of storeFixtures()) {
  describe(`hostile questions on the ${fixture.name} store`, function () {
    this.timeout(120_000);
    const sample = sampleStore(fixture);
    let asker: Asker;

    before(async () => {
      await sample.before();
      asker = new Asker(sample.get(), loadUserDirectory(SAMPLE_DIRECTORY));
    });
    after(() => sample.after());

    for (const [question, expected] of CASES) {
      it(`${expected === 'refused' ? 'refuses' : `matches literally (${expected})`}: ${JSON.stringify(question).slice(0, 80)}`, async () => {
        const parsed = await asker.parse(question, { now: NOW.toJSDate(), timeZone: ZONE, limit: 10 });
        if (expected === 'refused') {
          assert.equal(parsed.ok, false, parsed.ok ? `answered as: ${parsed.interpretation}` : '');
          if (!parsed.ok) {
            assert.ok(parsed.problems.length > 0);
            for (const p of parsed.problems) {
              assert.ok(p.length < 400, 'a short answer');
              assert.doesNotMatch(p, /exception|stack|sqlite|elasticsearch|\bat \w+\.\w+ \(/i, 'nothing from a dependency');
            }
            assert.ok(parsed.examples.length > 0, 'offers examples');
          }
          return;
        }
        assert.ok(parsed.ok, !parsed.ok ? parsed.problems.join(' ') : '');
        const answer = await asker.run(parsed, { timeZone: ZONE });
        assert.equal(answer.total, expected, parsed.interpretation);
      });
    }
  });
}
