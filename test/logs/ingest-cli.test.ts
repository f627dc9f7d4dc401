import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectPath } from '../../src/paths';
import { cli, storeEnv } from '../support/cli';
import { deleteIndex, elasticsearchSkipped, tempDir, uniqueSuffix } from '../support/stores';
import { SAMPLE_LOGS, truthEvents } from '../support/truth';

interface Report {
  files: number;
  events: number;
  added: number;
  malformed: { source: string; reason: string }[];
}

const kinds: ('sqlite' | 'elasticsearch')[] = elasticsearchSkipped() ? ['sqlite'] : ['sqlite', 'elasticsearch'];

for (const kind of kinds) {
  describe(`supportbot ingest (${kind})`, function () {
    this.timeout(120_000);
    const dir = tempDir();
    const index = `test-cli-${uniqueSuffix()}`;
    const env = storeEnv(kind, join(dir.path, 'data'), index);

    after(async () => {
      dir.remove();
      if (kind === 'elasticsearch') await deleteIndex(index);
    });

    it('reports 21,780 events and 0 malformed for the sample, then 0 added on a second run', async () => {
      const first = await cli(['ingest', SAMPLE_LOGS, '--json'], env);
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual(first.json<Report>(), { files: 20, events: 21780, added: 21780, malformed: [] });
      const second = await cli(['ingest', SAMPLE_LOGS, '--json'], env);
      assert.deepEqual(second.json<Report>(), { files: 20, events: 21780, added: 0, malformed: [] });
    });

    it('reports each bad line and unreadable file with path:line and a reason, keeps the rest, exits 1', async () => {
      const logs = join(dir.path, 'bad', 'APP09');
      mkdirSync(join(logs, 'api'), { recursive: true });
      mkdirSync(join(logs, 'auth'), { recursive: true });
      const good = '{"time":"2020-06-12T12:57:15.000+02:00","level":"Error","message":"Not authorized","userId":1087}';
      writeFileSync(
        join(logs, 'api', '2020-06-12.log'),
        Buffer.concat([
          Buffer.from(`${good}\r\n${good.slice(0, 50)}\r\n`),
          Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0d, 0x0a]),
          Buffer.from(`${good.replace('12:57', '12:58')}\r\n{"time":"2020-06-31T10:00:00Z","level":"Info","message":"x"}\r\n`),
        ]),
      );
      writeFileSync(join(logs, 'auth', '2020-06-12.log'), '2020-06-12 10:00:00.0000|INFO|L|ok\n   at orphan? no: continues ok\n');
      writeFileSync(join(logs, 'notes.md'), '# not a log\n');
      symlinkSync(join(dir.path, 'nowhere.log'), join(logs, 'api', 'gone.log'));
      const unreadable = join(logs, 'auth', 'locked.log');
      writeFileSync(unreadable, '2020-06-12 10:00:00.0000|INFO|L|secret\n');
      chmodSync(unreadable, 0o000);
      const root = process.getuid?.() === 0; // root reads it anyway; the broken link stands in for it

      const run = await cli(['ingest', join(dir.path, 'bad'), join(dir.path, 'missing-dir'), '--json'], env);
      assert.equal(run.code, 1);
      const report = run.json<Report>();
      assert.equal(report.events, root ? 4 : 3);
      assert.equal(report.added, root ? 4 : 3);
      const bySource = Object.fromEntries(report.malformed.map((m) => [m.source, m.reason]));
      assert.match(bySource['APP09/api/2020-06-12.log:2']!, /^truncated JSON/);
      assert.equal(bySource['APP09/api/2020-06-12.log:3'], 'not text: invalid UTF-8 (binary data?)');
      assert.equal(bySource['APP09/api/2020-06-12.log:5'], "impossible timestamp '2020-06-31T10:00:00Z'");
      assert.equal(bySource['APP09/api/gone.log'], 'no such file or directory');
      assert.match(bySource['APP09/notes.md']!, /no source in .* matches this file; not ingested/);
      assert.equal(bySource[join(dir.path, 'missing-dir')], 'no such file or directory');
      if (!root) assert.equal(bySource['APP09/auth/locked.log'], 'cannot read: permission denied');
      assert.match(run.stderr, /could not read: .*missing-dir/);
    });

    it('exits non-zero with a clear message when nothing given can be read', async () => {
      const run = await cli(['ingest', join(dir.path, 'does-not-exist')], env);
      assert.equal(run.code, 1);
      assert.match(run.stdout, /does-not-exist: no such file or directory/);
      assert.match(run.stderr, /could not read/);
    });
  });
}

describe('supportbot command line', () => {
  it('stops quietly when the reader of its output goes away (| head)', async () => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', projectPath('src', 'cli.ts'), 'rules', 'schema'], { cwd: projectPath(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the first write
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });

  it('has --help on every subcommand', async () => {
    const top = await cli(['--help'], {});
    assert.equal(top.code, 0);
    const commands = [...top.stdout.matchAll(/^ {2}([a-z][\w-]*)(?: |$)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    assert.ok(commands.includes('ingest'), top.stdout);
    for (const command of commands) {
      const help = await cli([command, '--help'], {});
      assert.equal(help.code, 0, command);
      assert.match(help.stdout, new RegExp(`Usage: supportbot ${command}`), command);
    }
  });

  it('explains a bad configuration, every problem at once', async () => {
    const run = await cli(['ingest', SAMPLE_LOGS], {
      ELASTICSEARCH_URL: 'ftp://nope',
      SUPPORTBOT_TIME_ZONE: 'Nowhere/Land',
      SUPPORTBOT_SEARCH_TIMEOUT_MS: 'soon',
    });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /ELASTICSEARCH_URL: 'ftp:\/\/nope' is not an http\(s\) URL/);
    assert.match(run.stderr, /SUPPORTBOT_TIME_ZONE: 'Nowhere\/Land'/);
    assert.match(run.stderr, /SUPPORTBOT_SEARCH_TIMEOUT_MS: 'soon'/);
  });

  it('says the store is unavailable when Elasticsearch cannot be reached', async () => {
    const dir = tempDir();
    try {
      const run = await cli(['ingest', SAMPLE_LOGS], { SUPPORTBOT_DATA_DIR: dir.path, ELASTICSEARCH_URL: 'http://127.0.0.1:9' });
      assert.equal(run.code, 3);
      assert.match(run.stderr, /log store is unavailable/);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      dir.remove();
    }
  });

  it('reads other layouts with a sources file given per run', async () => {
    const dir = tempDir();
    try {
      cpSync(join(SAMPLE_LOGS, 'APP01', 'auth', '2020-06-08.log'), join(dir.path, 'login.txt'));
      writeFileSync(join(dir.path, 'sources.yaml'), "sources:\n  - path: 'login\\.txt$'\n    format: nlog-text\n    timezone: UTC\n    host: LEGACY\n");
      const run = await cli(['ingest', join(dir.path, 'login.txt'), '--json', '--sources', join(dir.path, 'sources.yaml')], {
        SUPPORTBOT_DATA_DIR: join(dir.path, 'data'),
      });
      assert.equal(run.code, 0, run.stderr);
      const expected = truthEvents().filter((e) => e.source.startsWith('logs/APP01/auth/2020-06-08.log:')).length;
      assert.deepEqual(run.json<Report>(), { files: 1, events: expected, added: expected, malformed: [] });
    } finally {
      dir.remove();
    }
  });
});
