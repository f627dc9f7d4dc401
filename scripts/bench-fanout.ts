/**
 * `npm run bench -- fanout`: proactive fan-out through the outbox, the rate limiter and the
 * dispatcher into the local Bot-Connector stand-in (test/support/local-connector.ts), which
 * enforces Teams' limits itself and injects 429s. Real clock: the figures are wall time.
 *
 *   npm run bench -- fanout                                                  # 2 × 10,000, about 7.5 minutes
 *   BENCH_FANOUT_NOTIFICATIONS=2000 npx ts-node --transpile-only scripts/bench-fanout.ts   # quicker, alone
 *
 * Needs no log store (registered without `needsStores`), so no log data is generated for it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dispatcher } from '../src/alerts/dispatcher';
import { Notification } from '../src/alerts/notifications';
import { Outbox } from '../src/alerts/outbox';
import { RateLimiter } from '../src/alerts/rate-limiter';
import { systemClock } from '../src/clock';
import { SqliteStateStore } from '../src/state/state-store';
import { HttpNotifier } from '../test/support/http-notifier';
import { startLocalConnector } from '../test/support/local-connector';
import { addSection, BenchContext, report } from './bench';

/** Teams' limits, which the local connector enforces too. */
const PER_CONVERSATION = 7;
const PER_TENANT = 50;
const INJECTED_429 = 0.02;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** The most timestamps in any half-open window of 1 s. */
function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[j]! <= sorted[i]! - 1000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

function notifications(users: number, each: number, createdAt: number): Notification[] {
  const list: Notification[] = [];
  // Person by person, the order an incident with many matches per user would produce.
  for (let u = 0; u < users; u++) {
    for (let k = 0; k < each; k++) {
      list.push({
        idempotencyKey: `bench:${users}x${each}:${u}:${k}`,
        ruleId: 'bench-fanout',
        recipient: { role: 'affected', userId: String(10_000 + u), aadObjectId: `00000000-0000-4000-8000-${String(u).padStart(12, '0')}` },
        card: { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: `Workaround ${k} for user ${u}`, wrap: true }] },
        events: [`APP01/api/2020-06-12.log:${u * each + k + 1}`],
        createdAt,
      });
    }
  }
  return list;
}

async function fanOut(workDir: string, users: number, each: number): Promise<void> {
  const label = `${fmt(users)} users × ${fmt(each)}`;
  const total = users * each;
  const state = new SqliteStateStore(join(workDir, `fanout-${users}x${each}.db`));
  const connector = await startLocalConnector({ seed: 2020, rate429: INJECTED_429, retryAfterSeconds: 1 });
  try {
    const outbox = new Outbox(state.db);
    const list = notifications(users, each, systemClock());
    const enqueueStart = process.hrtime.bigint();
    outbox.enqueue(list);
    const enqueueSeconds = Number(process.hrtime.bigint() - enqueueStart) / 1e9;

    const limiter = new RateLimiter({ perConversationPerSecond: PER_CONVERSATION, perTenantPerSecond: PER_TENANT, clock: systemClock });
    const dispatcher = new Dispatcher({
      outbox,
      notifier: new HttpNotifier(connector.url),
      limiter,
      clock: systemClock,
      concurrency: 16,
      backoff: { baseMs: 500, maxMs: 30_000 },
    });
    const start = process.hrtime.bigint();
    const totals = await dispatcher.drain({ timeoutMs: (total / PER_TENANT) * 3000 + 60_000 });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;

    const keys = connector.received.map((r) => (r.activity.channelData as { idempotencyKey?: string } | undefined)?.idempotencyKey ?? '');
    const unique = new Set(keys);
    const duplicates = keys.length - unique.size;
    const lost = list.filter((n) => !unique.has(n.idempotencyKey)).length;
    const rate = unique.size / seconds;
    const perConversation = new Map<string, number[]>();
    for (const r of connector.received) {
      const times = perConversation.get(r.conversationId);
      if (times) times.push(r.time);
      else perConversation.set(r.conversationId, [r.time]);
    }
    const busiestConversation = Math.max(...[...perConversation.values()].map(busiestSecond));
    const counts = outbox.counts();

    report(`${label}: enqueue ${fmt(total)} into the outbox`, `${fmt(total / enqueueSeconds)} /s`);
    report(`${label}: ${fmt(unique.size)} delivered in ${seconds.toFixed(1)} s`, `${rate.toFixed(1)} msg/s`, `limit ${PER_TENANT}/s per tenant`);
    report(`${label}: share of the ${PER_TENANT}/s limit reached`, `${((rate / PER_TENANT) * 100).toFixed(1)} %`, '≥ 90 %');
    // Injected 429s spend limiter tokens without delivering: the sending rate the limiter allowed.
    report(`${label}: requests incl. the injected 429s`, `${(connector.stats.requests / seconds).toFixed(1)} req/s`, `limit ${PER_TENANT}/s`);
    if (each > 1) {
      const perConversationRate = each / seconds;
      report(`${label}: per conversation (tenant-bound: ${fmt(users)} share ${PER_TENANT}/s)`, `${perConversationRate.toFixed(2)} msg/s`, `limit ${PER_CONVERSATION}/s`);
    }
    report(`${label}: busiest 1 s, overall / one conversation`, `${busiestSecond(connector.received.map((r) => r.time))} / ${busiestConversation}`, `≤ ${PER_TENANT} / ≤ ${PER_CONVERSATION}`);
    report(`${label}: delivered / duplicates / lost`, `${fmt(unique.size)} / ${duplicates} / ${lost}`, `${fmt(total)} / 0 / 0`);
    report(
      `${label}: 429s injected (${INJECTED_429 * 100} %) / refused over limits`,
      `${connector.stats.injected['429'] ?? 0} / ${connector.stats.limited}`,
      '— / 0',
    );
    if (counts.sent !== total || totals.failed || totals.unreachable) {
      throw new Error(`fan-out ${label} incomplete: outbox ${JSON.stringify(counts)}, run ${JSON.stringify(totals)}`);
    }
  } finally {
    await connector.stop();
    state.close();
  }
}

/** The `fanout` section. Uses only `ctx.workDir`: no log store. */
export async function benchFanout(ctx: Pick<BenchContext, 'workDir'>): Promise<void> {
  const total = Number(process.env.BENCH_FANOUT_NOTIFICATIONS ?? 10_000);
  process.stdout.write(`\nFan-out (proactive notifications: outbox → limiter → dispatcher → local connector, ${INJECTED_429 * 100} % injected 429s)\n`);
  await fanOut(ctx.workDir, total, 1);
  await fanOut(ctx.workDir, Math.max(1, Math.round(total / 100)), 100);
}

addSection('fanout', benchFanout);

if (require.main === module) {
  const workDir = mkdtempSync(join(tmpdir(), 'supportbot-bench-fanout-'));
  benchFanout({ workDir })
    .catch((err: Error) => {
      process.stderr.write(`${err.stack ?? err.message}\n`);
      process.exitCode = 1;
    })
    .finally(() => rmSync(workDir, { recursive: true, force: true }));
}
