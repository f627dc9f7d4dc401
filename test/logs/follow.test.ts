import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Follower, OffsetRegistry } from '../../src/logs/follow';
import { LogStore } from '../../src/logs/log-store';
import { loadSourcesConfig } from '../../src/logs/sources';
import { SqliteLogStore } from '../../src/logs/sqlite/sqlite-log-store';
import { projectPath } from '../../src/paths';
import { storeFixtures, tempDir } from '../support/stores';

const sources = loadSourcesConfig();

const api = (t: string, msg: string) =>
  `{"time":"2020-06-12T${t}.000+02:00","level":"Error","logger":"L","message":"${msg}","userId":1087,"statusCode":403}\r\n`;
const auth = (t: string, msg: string) => `2020-06-12 ${t}.0000|ERROR|Contoso.Auth.LoginController|${msg}\r\n`;

async function messages(store: LogStore): Promise<string[]> {
  await store.refresh();
  const r = await store.search({ filters: [], shape: { kind: 'list', limit: 1000, order: 'asc' } });
  return r.hits.map((h) => `${h.source} ${h.message}${h['error.stack_trace'] ? ` [${h['error.stack_trace'].split('\n').length} lines]` : ''}`);
}

for (const fixture of storeFixtures()) {
  describe(`ingest --follow (${fixture.name})`, function () {
    this.timeout(60_000);
    let store: LogStore;
    let dispose: () => Promise<void>;
    let dir: ReturnType<typeof tempDir>;
    let clock = 0;
    const now = () => clock;

    beforeEach(async () => {
      ({ store, dispose } = await fixture.make());
      dir = tempDir();
      mkdirSync(join(dir.path, 'logs', 'APP01', 'api'), { recursive: true });
      mkdirSync(join(dir.path, 'logs', 'APP01', 'auth'), { recursive: true });
      clock = 0;
    });
    afterEach(async () => {
      await dispose();
      dir.remove();
    });

    const follower = (registry: OffsetRegistry) =>
      new Follower([join(dir.path, 'logs')], store, sources, registry, { multilineTimeoutMs: 500, now });

    it('reads appended lines, waits for a line to be complete, and picks up new files', async () => {
      const registry = new OffsetRegistry(join(dir.path, 'offsets.db'));
      const f = follower(registry);
      const file = join(dir.path, 'logs', 'APP01', 'api', '2020-06-12.log');
      writeFileSync(file, api('10:00:00', 'one'));
      assert.equal((await f.tick()).added, 1);
      appendFileSync(file, api('10:00:01', 'two') + api('10:00:02', 'thr').slice(0, 30));
      assert.equal((await f.tick()).added, 1, 'the half-written line waits');
      appendFileSync(file, api('10:00:02', 'thr').slice(30));
      const other = join(dir.path, 'logs', 'APP01', 'api', '2020-06-13.log');
      writeFileSync(other, api('11:00:00', 'new file'));
      assert.equal((await f.tick()).added, 2);
      assert.equal((await f.tick()).added, 0);
      assert.deepEqual(await messages(store), [
        'APP01/api/2020-06-12.log:1 one',
        'APP01/api/2020-06-12.log:2 two',
        'APP01/api/2020-06-12.log:3 thr',
        'APP01/api/2020-06-13.log:1 new file',
      ]);
      registry.close();
    });

    it('completes a multi-line event after a quiet moment, and updates it if more of its stack trace comes', async () => {
      const registry = new OffsetRegistry(join(dir.path, 'offsets.db'));
      const f = follower(registry);
      const file = join(dir.path, 'logs', 'APP01', 'auth', '2020-06-12.log');
      writeFileSync(file, auth('10:00:00', 'first') + auth('10:00:01', 'crash System.InvalidOperationException: boom') + '   at A.B()\r\n');
      assert.equal((await f.tick()).added, 1, 'the last event may still grow');
      clock += 600;
      assert.equal((await f.tick()).added, 1, 'quiet for longer than the timeout: complete');
      appendFileSync(file, '   at C.D()\r\n');
      await f.tick();
      clock += 600;
      const replaced = await f.tick();
      assert.deepEqual([replaced.events, replaced.added], [1, 0], 'the same event again, replaced');
      assert.deepEqual(await messages(store), ['APP01/auth/2020-06-12.log:1 first', 'APP01/auth/2020-06-12.log:2 crash [3 lines]']);
      registry.close();
    });

    it('survives rotation by rename and by truncation without losing or repeating a line', async () => {
      const registry = new OffsetRegistry(join(dir.path, 'offsets.db'));
      const f = follower(registry);
      const file = join(dir.path, 'logs', 'APP01', 'api', 'app.log');
      writeFileSync(file, api('10:00:00', 'a1') + api('10:00:01', 'a2'));
      await f.tick();
      appendFileSync(file, api('10:00:02', 'a3'));
      renameSync(file, join(dir.path, 'logs', 'APP01', 'api', 'app.1.log'));
      writeFileSync(file, api('10:00:03', 'b1'));
      const rotated = await f.tick();
      assert.equal(rotated.added, 2, 'a3 from the renamed file and b1 from the new one');
      appendFileSync(file, api('10:00:04', 'b2'));
      await f.tick();
      truncateSync(file, 0);
      appendFileSync(file, api('10:00:05', 'c1'));
      clock += 1000;
      const truncated = await f.tick();
      assert.equal(truncated.added, 1);
      assert.deepEqual(await messages(store), [
        'APP01/api/app.log:1 a1',
        'APP01/api/app.log:2 a2',
        'APP01/api/app.log:3 a3',
        'APP01/api/app.log:1 b1',
        'APP01/api/app.log:2 b2',
        'APP01/api/app.log:1 c1',
      ]);
      registry.close();
    });

    it('resumes after a restart where it stopped: nothing lost, nothing repeated', async () => {
      const file = join(dir.path, 'logs', 'APP01', 'auth', '2020-06-12.log');
      writeFileSync(file, auth('10:00:00', 'one') + auth('10:00:01', 'two'));
      let registry = new OffsetRegistry(join(dir.path, 'offsets.db'));
      await follower(registry).tick();
      registry.close();
      appendFileSync(file, auth('10:00:02', 'three') + auth('10:00:03', 'four'));
      registry = new OffsetRegistry(join(dir.path, 'offsets.db'));
      const f = follower(registry);
      const resumed = await f.tick();
      assert.equal(resumed.added, 2, 'two (still open at the restart) and three; four may still grow');
      assert.equal(resumed.events, 2, 'one is not read again');
      clock += 1000;
      assert.equal((await f.tick()).added, 1);
      assert.deepEqual((await messages(store)).map((m) => m.split(' ')[1]), ['one', 'two', 'three', 'four']);
      registry.close();
    });
  });
}

describe('supportbot ingest --follow as a process', function () {
  this.timeout(60_000);

  it('tails until SIGTERM and continues after a restart without repeating', async () => {
    const dir = tempDir();
    try {
      const logs = join(dir.path, 'logs', 'APP01', 'api');
      mkdirSync(logs, { recursive: true });
      const file = join(logs, '2020-06-12.log');
      writeFileSync(file, api('10:00:00', 'one'));
      const env = { ...process.env, SUPPORTBOT_DATA_DIR: join(dir.path, 'data'), ELASTICSEARCH_URL: '' };
      const run = async (whileRunning: () => void) => {
        const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', projectPath('src', 'cli.ts'), 'ingest', join(dir.path, 'logs'), '--follow', '--json', '--poll', '100'], { env, cwd: projectPath() });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        const waitFor = async (n: number) => {
          const until = Date.now() + 30_000;
          while (out.split('\n').filter(Boolean).length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
        };
        await waitFor(1);
        whileRunning();
        await waitFor(2);
        const exited = new Promise<number | null>((r) => child.once('exit', r));
        child.kill('SIGTERM');
        assert.equal(await exited, 0);
        return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { added: number });
      };
      const first = await run(() => appendFileSync(file, api('10:00:01', 'two')));
      assert.deepEqual(first.map((r) => r.added), [1, 1]);
      appendFileSync(file, api('10:00:02', 'three'));
      const second = await run(() => appendFileSync(file, api('10:00:03', 'four')));
      assert.deepEqual(second.map((r) => r.added), [1, 1]);
      const store = new SqliteLogStore({ file: join(dir.path, 'data', 'logs.db') });
      assert.equal(await store.size(), 4);
      await store.close();
    } finally {
      dir.remove();
    }
  });
});
