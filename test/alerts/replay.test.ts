/**
 * `alerts run --dry-run` over the sample week, on both stores: exactly the users of
 * truth/scenarios.json for each scenario, each once, plus the supervisors for forbidden-edit, and
 * nothing else to individual users.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadUserDirectory } from '../../src/directory/user-directory';
import { cli, storeEnv } from '../support/cli';
import { deleteIndex, elasticsearchSkipped, tempDir, uniqueSuffix } from '../support/stores';
import { SAMPLE_DIRECTORY, SAMPLE_LOGS, truthScenarios } from '../support/truth';

interface Out {
  notifications: { rule: string; recipient: { userId?: string; aadObjectId?: string; role: string }; card: Record<string, unknown>; events: string[] }[];
}

const scenarios = truthScenarios().scenarios;
const directory = loadUserDirectory(SAMPLE_DIRECTORY);
const sorted = (xs: (string | number)[]) => xs.map(String).sort();

const kinds: ('sqlite' | 'elasticsearch')[] = elasticsearchSkipped() ? ['sqlite'] : ['sqlite', 'elasticsearch'];

for (const kind of kinds) {
  describe(`supportbot alerts run --dry-run on the sample week (${kind})`, function () {
    this.timeout(120_000);
    const dir = tempDir();
    const index = `test-alerts-${uniqueSuffix()}`;
    const env = storeEnv(kind, join(dir.path, 'data'), index);
    let out: Out;

    before(async () => {
      assert.equal((await cli(['ingest', SAMPLE_LOGS], env)).code, 0);
      const run = await cli(['alerts', 'run', '--from', '2020-06-08T00:00:00+02:00', '--to', '2020-06-13T00:00:00+02:00', '--dry-run', '--json'], env);
      assert.equal(run.code, 0, run.stderr);
      out = run.json<Out>();
    });
    after(async () => {
      dir.remove();
      if (kind === 'elasticsearch') await deleteIndex(index);
    });

    const to = (rule: string, role: string) => out.notifications.filter((n) => n.rule === rule && n.recipient.role === role).map((n) => n.recipient.userId!);

    it('ack-missing: the repeaters, each once; the one-off users are left alone', () => {
      assert.deepEqual(sorted(to('ack-missing', 'affected')), sorted(scenarios['ack-missing'].repeaters));
      for (const u of scenarios['ack-missing'].oneOff) assert.ok(!to('ack-missing', 'affected').includes(String(u)));
    });

    it('forbidden-edit: each affected user once, and each one’s supervisor', () => {
      const affected = scenarios['forbidden-edit'].affected;
      assert.deepEqual(sorted(to('forbidden-edit', 'affected')), sorted(affected.map((a) => a.userId)));
      assert.deepEqual(sorted(to('forbidden-edit', 'supervisor')), sorted(affected.map((a) => a.supervisorId)));
    });

    it('password-special-chars and web-proxy: exactly the affected users, each once', () => {
      assert.deepEqual(sorted(to('password-special-chars', 'affected')), sorted(scenarios['password-special-chars'].affected));
      assert.deepEqual(sorted(to('web-proxy', 'affected')), sorted(scenarios['web-proxy'].affected));
    });

    it('sends nothing else to individual users', () => {
      const individual = out.notifications.filter((n) => n.recipient.role !== 'channel');
      const expected =
        scenarios['ack-missing'].repeaters.length +
        2 * scenarios['forbidden-edit'].affected.length +
        scenarios['password-special-chars'].affected.length +
        scenarios['web-proxy'].affected.length;
      assert.equal(individual.length, expected);
      for (const n of individual) {
        assert.equal(n.recipient.aadObjectId, directory.byUserId(n.recipient.userId!)!.aadObjectId, 'the Teams identity of the recipient');
      }
    });

    it('cards carry the specifics: what failed, when, on which document', () => {
      const card = JSON.stringify(out.notifications.find((n) => n.rule === 'forbidden-edit' && n.recipient.userId === '1087' && n.recipient.role === 'affected')!.card);
      assert.match(card, /11213/);
      assert.match(card, /PUT \/api\/documents\/11213/);
      assert.match(card, /Fri 12 Jun 2020 12:57/);
      assert.match(card, /supervisor/i);
      const events = out.notifications.find((n) => n.rule === 'forbidden-edit' && n.recipient.userId === '1087')!.events;
      assert.deepEqual(events, ['APP01/api/2020-06-12.log:866']);
      const supervisorCard = JSON.stringify(out.notifications.find((n) => n.rule === 'forbidden-edit' && n.recipient.role === 'supervisor' && n.recipient.userId === '1345')!.card);
      assert.match(supervisorCard, /Paul Rossi \(1087\)/);
      assert.match(supervisorCard, /document 11213/);
      const ack = JSON.stringify(out.notifications.find((n) => n.rule === 'ack-missing')!.card);
      assert.match(ack, /isAcknowledged|Acknowledge/);
    });
  });
}
