#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from './config';
import { createEngine, Engine } from './engine';
import { IngestReport } from './logs/ingest';
import { StoreUnavailableError } from './logs/log-store';
import { SourcesConfigError } from './logs/sources';
import { DirectoryError } from './directory/user-directory';
import { isValidZone } from './logs/timestamps';
import { answerJson } from './query/ask';
import { formatAnswer } from './query/format-answer';
import { MAX_LIST_LIMIT } from './query/log-query';
import { EXAMPLES } from './query/parse-question';
import { AppPackageError, buildAppPackage } from './manifest/app-package';
import { formatProblems, loadRules } from './alerts/rule-loader';
import { ruleJsonSchemaText } from './alerts/rule-schema';
import { notificationsJson, replayAlerts } from './alerts/replay';
import { CardRenderer } from './cards/render-card';
import { createLogger } from './logger';
import { subscriptionsOf } from './alerts/subscriptions';

/** Output and exit of one CLI run; tests run commands in-process through `runCli`. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
}

/** Exit codes: 0 done, 1 done but some input could not be read, 2 usage or configuration error, 3 store unavailable. */
export const EXIT = { ok: 0, partial: 1, usage: 2, unavailable: 3 } as const;

class UsageError extends Error {}

class CliExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

async function withEngine<T>(io: CliIo, overrides: { sources?: string }, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const env = { ...io.env, ...(overrides.sources ? { SUPPORTBOT_SOURCES: resolve(io.cwd, overrides.sources) } : {}) };
  const engine = await createEngine(loadConfig(env, io.cwd));
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

function printIngest(io: CliIo, report: IngestReport, json: boolean): void {
  if (json) {
    io.out(JSON.stringify({ files: report.files, events: report.events, added: report.added, malformed: report.malformed }));
    return;
  }
  io.out(`${report.files} files, ${report.events} events, ${report.added} new, ${report.malformed.length} problems`);
  for (const m of report.malformed.slice(0, 50)) io.out(`  ${m.source}: ${m.reason}`);
  if (report.malformed.length > 50) io.out(`  … and ${report.malformed.length - 50} more (use --json for all)`);
}

export function buildProgram(io: CliIo): Command {
  const program = new Command('supportbot')
    .description('Proactive support bot for Microsoft Teams: application logs in, help out.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .showHelpAfterError();

  program
    .command('ingest')
    .description('Read nlog files into the log store (embedded SQLite, or Elasticsearch when ELASTICSEARCH_URL is set). Idempotent.')
    .argument('<paths...>', 'files or directories (walked recursively); provenance is relative to each')
    .option('--follow', 'keep reading: appended lines, new files, rotation and truncation; offsets survive restarts')
    .option('--json', 'print {"files","events","added","malformed":[{"source","reason"}]}')
    .option('--sources <file>', 'sources configuration (default: SUPPORTBOT_SOURCES or config/sources.yaml)')
    .option('--poll <ms>', 'with --follow: how often files are checked', '250')
    .addHelpText(
      'after',
      '\nExit status: 0 when every path was read (malformed lines are reported, not fatal), 1 when a path could not be read.',
    )
    .action(async (paths: string[], opts: { follow?: boolean; json?: boolean; sources?: string; poll: string }) => {
      await withEngine(io, opts, async (engine) => {
        if (opts.follow) {
          const { followPaths } = await import('./logs/follow');
          await followPaths(engine, paths, {
            pollMs: Number(opts.poll),
            onBatch: (r) => (opts.json ? io.out(JSON.stringify(r)) : io.out(`${r.events} events, ${r.added} new${r.malformed.length ? `, ${r.malformed.length} problems` : ''}`)),
            onMalformed: (m) => io.err(`${m.source}: ${m.reason}`),
          });
          return;
        }
        const report = await engine.ingest(paths);
        printIngest(io, report, !!opts.json);
        if (report.unreadable.length) {
          io.err(`could not read: ${report.unreadable.join(', ')}`);
          throw new CliExit(EXIT.partial);
        }
      });
    });

  program
    .command('ask')
    .description('Ask the logs a question in plain words; the answer says how it was understood.')
    .argument('<question>', 'e.g. "show errors for user 1087 today", "count failed logins by hour yesterday"')
    .option('--now <iso>', 'the time the question is asked at, ISO 8601 with offset (default: now)')
    .option('--tz <zone>', 'IANA time zone for today, yesterday and hour buckets (default: SUPPORTBOT_TIME_ZONE or the system zone)')
    .option('--limit <n>', 'events to list (total still counts all)', '50')
    .option('--json', 'print {"question","interpretation","query","total","hits","buckets","elasticsearch"}')
    .addHelpText('after', `
Examples:
${EXAMPLES.map((e) => `  supportbot ask '${e}'`).join('\n')}

Exit status: 0 answered, 1 not understood, 2 usage, 3 log store unavailable.`)
    .action(async (question: string, opts: { now?: string; tz?: string; limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 0 || limit > MAX_LIST_LIMIT) throw new UsageError(`--limit must be a whole number from 0 to ${MAX_LIST_LIMIT}`);
      let now: Date | undefined;
      if (opts.now !== undefined) {
        if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(opts.now) || Number.isNaN(Date.parse(opts.now))) {
          throw new UsageError('--now must be ISO 8601 with an offset, e.g. 2020-06-12T16:30:00+02:00');
        }
        now = new Date(opts.now);
      }
      if (opts.tz !== undefined && !isValidZone(opts.tz)) throw new UsageError(`--tz: '${opts.tz}' is not an IANA time zone (e.g. Europe/Berlin)`);
      await withEngine(io, {}, async (engine) => {
        const options = { timeZone: opts.tz ?? engine.config.timeZone, limit, ...(now ? { now } : {}) };
        const parsed = await engine.asker.parse(question, options);
        if (!parsed.ok) {
          if (opts.json) io.out(JSON.stringify({ question, problems: parsed.problems, examples: parsed.examples }, null, 2));
          else {
            io.out(`I could not answer that: ${parsed.problems.join(' ')}`);
            io.out(`Try for example:\n${parsed.examples.map((e) => `  ${e}`).join('\n')}`);
          }
          throw new CliExit(EXIT.partial);
        }
        const answer = await engine.asker.run(parsed, options);
        if (opts.json) io.out(JSON.stringify(answerJson(answer), null, 2));
        else io.out(formatAnswer(answer, options.timeZone));
      });
    });

  const rules = program.command('rules').description('Alert rules: check them, print their JSON Schema.');
  rules
    .command('validate')
    .description('Check every rule file; print file:line:column: problem for each; exit 1 when any is invalid.')
    .argument('[dir]', 'folder of rule files (default: SUPPORTBOT_RULES or rules/)')
    .action(async (dir: string | undefined) => {
      const folder = dir ? resolve(io.cwd, dir) : loadConfig(io.env, io.cwd).alerts.rulesDir;
      const loaded = loadRules(folder);
      if (loaded.problems.length) {
        io.err(formatProblems(loaded.problems));
        io.err(`${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'}; ${loaded.rules.length} rule${loaded.rules.length === 1 ? '' : 's'} valid.`);
        throw new CliExit(EXIT.partial);
      }
      io.out(`${loaded.rules.length} rules valid: ${loaded.rules.map((r) => r.id).join(', ')}`);
    });
  rules
    .command('schema')
    .description('Print the JSON Schema of rule files (the one in rules/rule.schema.json).')
    .action(() => io.out(ruleJsonSchemaText().replace(/\n$/, '')));

  const alerts = program.command('alerts').description('Alert engine.');
  alerts
    .command('run')
    .description('Replay a window of the logs through the alert engine with a fixed clock; print what would be sent.')
    .requiredOption('--from <iso>', 'start of the window (ISO 8601 with offset)')
    .requiredOption('--to <iso>', 'end of the window (ISO 8601 with offset)')
    .option('--dry-run', 'record notifications instead of sending them (the only mode: replays never send)', true)
    .option('--json', 'print {"notifications":[{"rule","recipient":{"userId","aadObjectId","role"},"card","events"}]}')
    .option('--rules <dir>', 'folder of rule files (default: SUPPORTBOT_RULES or rules/)')
    .action(async (opts: { from: string; to: string; json?: boolean; rules?: string }) => {
      const from = Date.parse(opts.from);
      const to = Date.parse(opts.to);
      if (!/T/.test(opts.from) || Number.isNaN(from)) throw new UsageError(`--from: '${opts.from}' is not an ISO 8601 instant`);
      if (!/T/.test(opts.to) || Number.isNaN(to)) throw new UsageError(`--to: '${opts.to}' is not an ISO 8601 instant`);
      if (to <= from) throw new UsageError('--to must be after --from');
      await withEngine(io, {}, async (engine) => {
        const loaded = loadRules(opts.rules ? resolve(io.cwd, opts.rules) : engine.config.alerts.rulesDir);
        if (loaded.problems.length) io.err(`skipping invalid rules:\n${formatProblems(loaded.problems)}`);
        const notifications = await replayAlerts({
          store: engine.logStore,
          rules: loaded.rules,
          directory: engine.directory,
          cards: new CardRenderer(),
          logger: createLogger({ level: 'warn' }),
          from,
          to,
          timeZone: engine.config.timeZone,
          subscriptions: subscriptionsOf(engine.config.dataDir),
        });
        if (opts.json) {
          io.out(JSON.stringify(notificationsJson(notifications), null, 2));
          return;
        }
        io.out(`${notifications.length} notification${notifications.length === 1 ? '' : 's'} (dry run, nothing sent)`);
        for (const n of notifications) {
          const who = n.recipient.role === 'channel' ? `channel ${n.recipient.conversationId}` : `${n.recipient.role} ${n.recipient.name ?? ''} (user ${n.recipient.userId})`;
          io.out(`  ${n.ruleId.padEnd(24)} ${who.padEnd(48)} ${n.events[n.events.length - 1] ?? ''}`);
        }
      });
    });

  program
    .command('manifest')
    .description('Build the Teams app package (manifest.json and icons) from the environment into a zip.')
    .option('--out <file>', 'where to write the package', 'dist/appPackage.zip')
    .addHelpText('after', '\nReads MicrosoftAppId and BOT_DOMAIN (required), TEAMS_APP_ID, TAB_BASE_URL, APP_VERSION,\nDEVELOPER_NAME, DEVELOPER_URL, PRIVACY_URL, TERMS_URL (see .env.example). The manifest is checked\nagainst the official Teams schema (v1.29) before the zip is written.')
    .action(async (opts: { out: string }) => {
      try {
        const result = await buildAppPackage({ env: io.env, outFile: resolve(io.cwd, opts.out) });
        for (const w of result.warnings) io.err(`warning: ${w}`);
        io.out(`Wrote ${result.file}: upload it in Teams (Apps → Manage your apps → Upload an app).`);
      } catch (err) {
        if (err instanceof AppPackageError) {
          io.err(err.message);
          throw new CliExit(EXIT.usage);
        }
        throw err;
      }
    });

  return program;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CliExit) return err.code;
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof UsageError) {
      io.err(`supportbot: ${err.message}`);
      return EXIT.usage;
    }
    if (err instanceof ConfigError || err instanceof SourcesConfigError || err instanceof DirectoryError) {
      io.err(err.message);
      return EXIT.usage;
    }
    if (err instanceof StoreUnavailableError) {
      io.err(`${err.userMessage} (${err.message})`);
      return EXIT.unavailable;
    }
    throw err;
  }
}

if (require.main === module) {
  if (existsSync('.env')) process.loadEnvFile('.env');
  // `supportbot ... | head`: the reader has gone; stop quietly as other command-line tools do.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const io: CliIo = {
    out: (s) => process.stdout.write(s + '\n'),
    err: (s) => process.stderr.write(s + '\n'),
    env: process.env,
    cwd: process.cwd(),
  };
  runCli(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`supportbot: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
