import assert from 'node:assert/strict';
import { Dispatcher, DispatcherOptions, Sleep } from '../../src/alerts/dispatcher';
import { Delivery, Notification, Notifier, Recipient } from '../../src/alerts/notifications';
import { backoffDelay, ClaimOptions, conversationKey, Outbox, OutboxOptions } from '../../src/alerts/outbox';
import { RateLimiter } from '../../src/alerts/rate-limiter';
import { Clock, manualClock, systemClock } from '../../src/clock';
import { memoryLogger } from '../../src/logger';
import { SqliteStateStore } from '../../src/state/state-store';
import { HttpNotifier, parseRetryAfter } from '../support/http-notifier';
import { LocalConnector, startLocalConnector } from '../support/local-connector';

const START = Date.parse('2020-06-12T14:30:00Z');

function note(key: string, recipient: Partial<Recipient> = {}, createdAt = START): Notification {
  return {
    idempotencyKey: key,
    ruleId: 'forbidden-edit',
    recipient: { role: 'affected', ...recipient },
    card: { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: key }] },
    events: [`APP01/api/2020-06-12.log:${key.length}`],
    createdAt,
  };
}

/** `count` notifications over `conversations` conversations, enqueued conversation by conversation. */
function fanOut(count: number, conversations: number, createdAt = START): Notification[] {
  const perConversation = Math.ceil(count / conversations);
  return Array.from({ length: count }, (_, i) => {
    const c = Math.floor(i / perConversation);
    return note(`n${i}`, { aadObjectId: `user-${c}`, userId: String(1000 + c) }, createdAt);
  });
}

const sentTo = (n: Notification): Delivery => ({ outcome: 'sent', conversationId: conversationKey(n.recipient), activityId: `act-${n.idempotencyKey}` });

/** Records every call (key, attempt, clock time) and answers as told. */
class ScriptedNotifier implements Notifier {
  readonly name = 'scripted';
  readonly calls: { key: string; attempt: number; time: number; conversation: string }[] = [];
  private readonly attempts = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly answer: (n: Notification, attempt: number) => Delivery | Promise<Delivery> = sentTo,
  ) {}

  async deliver(n: Notification): Promise<Delivery> {
    const attempt = (this.attempts.get(n.idempotencyKey) ?? 0) + 1;
    this.attempts.set(n.idempotencyKey, attempt);
    this.calls.push({ key: n.idempotencyKey, attempt, time: this.clock(), conversation: conversationKey(n.recipient) });
    return this.answer(n, attempt);
  }

  timesOf(key: string): number[] {
    return this.calls.filter((c) => c.key === key).map((c) => c.time);
  }
}

/** The most events in any half-open window of `ms` (Teams' "N in any 1 s"). */
function maxInWindow(times: number[], ms = 1000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[j]! <= sorted[i]! - ms) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A state database, an outbox in it, a manual clock and a sleep that moves it. */
function fakeWorld(outboxOptions: OutboxOptions = {}) {
  const state = new SqliteStateStore(':memory:');
  const outbox = new Outbox(state.db, outboxOptions);
  const clock = manualClock(START);
  const slept: number[] = [];
  const sleep: Sleep = async (ms) => {
    slept.push(ms);
    clock.advance(ms);
  };
  const limiter = new RateLimiter({ perConversationPerSecond: 7, perTenantPerSecond: 50, clock });
  const dispatcher = (notifier: Notifier, options: Partial<DispatcherOptions> = {}) =>
    new Dispatcher({ outbox, notifier, limiter, clock, sleep, concurrency: 4, backoff: { baseMs: 1000, maxMs: 60_000, random: () => 0.5 }, ...options });
  return { state, outbox, clock, sleep, slept, limiter, dispatcher };
}

describe('RateLimiter', () => {
  it('lets the first send go and spaces the next ones by conversation and by tenant', () => {
    const clock = manualClock(START);
    const limiter = new RateLimiter({ perConversationPerSecond: 7, perTenantPerSecond: 50, clock });
    assert.equal(limiter.take('c1', 't'), 0);
    const sameConversation = limiter.take('c1', 't');
    // (1000 + 50 margin + 10 tolerance) / 7 = 151.4 ms between sends, 10 ms of it may be early.
    assert.equal(sameConversation, 142);
    const otherConversation = limiter.take('c2', 't');
    assert.equal(otherConversation, 12); // (1060 / 50) - 10 = 11.2 ms, rounded up
    clock.advance(12);
    assert.equal(limiter.take('c2', 't'), 0);
    assert.equal(limiter.take('c3', 'other-tenant'), 0, 'tenants do not share a bucket');
    clock.advance(142 - 12);
    assert.equal(limiter.take('c1', 't'), 0);
  });

  it('takes nothing when it says wait', () => {
    const clock = manualClock(START);
    const limiter = new RateLimiter({ perConversationPerSecond: 7, perTenantPerSecond: 50, clock });
    assert.equal(limiter.take('c1', 't'), 0);
    clock.advance(30);
    assert.ok(limiter.take('c1', 't') > 0, 'the conversation is not ready');
    assert.equal(limiter.take('c2', 't'), 0, 'the refused c1 did not spend the tenant token');
  });

  it('holds a deferred conversation for the whole Retry-After, and only that one', () => {
    const clock = manualClock(START);
    const limiter = new RateLimiter({ perConversationPerSecond: 7, perTenantPerSecond: 50, clock });
    limiter.defer('c1', 3000);
    assert.equal(limiter.take('c1', 't'), 3000);
    assert.equal(limiter.take('c2', 't'), 0);
    clock.advance(2999);
    assert.equal(limiter.take('c1', 't'), 1);
    clock.advance(1);
    assert.equal(limiter.take('c1', 't'), 0);
  });

  const greedy = (limiter: RateLimiter, clock: ReturnType<typeof manualClock>, keys: (i: number) => string, lateness: () => number, ms: number) => {
    const times: number[] = [];
    const end = clock() + ms;
    for (let i = 0; clock() < end; ) {
      const wait = limiter.take(keys(i), 't');
      if (wait === 0) {
        times.push(clock());
        i++;
      } else clock.advance(wait + lateness());
    }
    return times;
  };

  for (const [name, lateness] of [
    ['exact timers', () => 0],
    ['timers 0-3 ms late', (() => {
      let x = 7;
      return () => (x = (x * 31 + 11) % 97) % 4;
    })()],
  ] as const) {
    it(`never lets more than the limit into any 1-s window, yet sustains at least 90 % of it (${name})`, () => {
      const clock = manualClock(START);
      const limiter = new RateLimiter({ perConversationPerSecond: 7, perTenantPerSecond: 50, clock });
      const one = greedy(limiter, clock, () => 'c1', lateness, 20_000);
      assert.ok(maxInWindow(one) <= 7, `one conversation: ${maxInWindow(one)} in 1 s`);
      assert.ok(one.length >= 0.9 * 7 * 20, `one conversation: ${one.length} in 20 s`);
      const many = greedy(limiter, clock, (i) => `c${i % 100}`, lateness, 20_000);
      assert.ok(maxInWindow(many) <= 50, `overall: ${maxInWindow(many)} in 1 s`);
      assert.ok(many.length >= 0.9 * 50 * 20, `overall: ${many.length} in 20 s`);
    });
  }

  it('keeps under the limits even when the receiver sees requests up to the margin out of order', () => {
    const clock = manualClock(START);
    const limiter = new RateLimiter({ perConversationPerSecond: 7, perTenantPerSecond: 50, clock });
    const sends = greedy(limiter, clock, (i) => `c${i % 10}`, () => 0, 10_000);
    // Network delay between 0 and 49 ms, the worst order: early ones slow, later ones fast.
    const arrivals = sends.map((t, i) => t + (i % 2 === 0 ? 49 : 0));
    assert.ok(maxInWindow(arrivals) <= 50);
  });
});

describe('Outbox', () => {
  it('enqueues idempotently: the same key twice is one item', () => {
    const { outbox } = fakeWorld();
    assert.equal(outbox.enqueue([note('a'), note('b'), note('a')]), 2);
    assert.equal(outbox.enqueue([note('a'), note('b'), note('c')]), 1);
    assert.deepEqual(outbox.counts(), { pending: 3, sending: 0, sent: 0, unreachable: 0, failed: 0 });
    const a = outbox.find('a')!;
    assert.equal(a.status, 'pending');
    assert.deepEqual(a.notification, note('a'));
  });

  it('enqueues inside the caller transaction: committed and rolled back with it', () => {
    const { state, outbox } = fakeWorld();
    state.db.exec('CREATE TABLE checkpoints (rule_id TEXT PRIMARY KEY, at INTEGER)');
    const checkpoint = (at: number, fail: boolean) =>
      state.db.transaction(() => {
        const added = outbox.enqueue([note(`k${at}`)]);
        state.db.prepare('INSERT OR REPLACE INTO checkpoints VALUES (?, ?)').run('forbidden-edit', at);
        if (fail) throw new Error('engine failed after enqueuing');
        return added;
      })();
    assert.equal(checkpoint(1, false), 1);
    assert.throws(() => checkpoint(2, true), /engine failed/);
    assert.ok(outbox.find('k1'));
    assert.equal(outbox.find('k2'), undefined, 'rolled back with the checkpoint');
    assert.deepEqual(state.db.prepare('SELECT at FROM checkpoints').get(), { at: 1 });
  });

  it('claims due items oldest first, round-robin across conversations with a cap each, and never twice', () => {
    const { outbox } = fakeWorld();
    outbox.enqueue([
      note('late', { aadObjectId: 'u1' }, START + 10),
      ...[0, 1, 2, 3].map((i) => note(`u1-${i}`, { aadObjectId: 'u1' }, START + i)),
      note('u2-0', { aadObjectId: 'u2' }, START + 5),
      note('u3-0', { aadObjectId: 'u3' }, START + 6),
      note('future', { aadObjectId: 'u4' }, START + 60_000),
    ]);
    const keys = (items: { notification: Notification }[]) => items.map((i) => i.notification.idempotencyKey);
    const first = outbox.claimDue(START + 10, 2, { perConversation: 2 });
    assert.deepEqual(keys(first), ['u1-0', 'u2-0'], "u2's first card does not wait behind u1's second");
    assert.deepEqual(first.map((i) => i.backlog), [5, 1], 'how many were due for the conversation');
    assert.ok(first.every((i) => i.status === 'sending' && i.leaseUntil === START + 10 + 5 * 60_000));
    assert.deepEqual(keys(outbox.claimDue(START + 10, 10, { perConversation: 2, excludeConversations: ['u3'] })), ['u1-1', 'u1-2']);
    assert.deepEqual(keys(outbox.claimDue(START + 10, 10)), ['u1-3', 'u3-0', 'late']);
    assert.deepEqual(outbox.claimDue(START + 10, 10), []);
    assert.equal(outbox.nextAttemptAt(), START + 60_000);
  });

  it('backs off exponentially with jitter, capped', () => {
    const policy = { baseMs: 1000, maxMs: 8000 };
    assert.deepEqual([1, 2, 3, 4, 5, 9].map((a) => backoffDelay(a, { ...policy, random: () => 0.999 })), [1000, 1999, 3998, 7996, 7996, 7996]);
    assert.deepEqual([1, 2, 3].map((a) => backoffDelay(a, { ...policy, random: () => 0 })), [500, 1000, 2000]);
  });

  it('reports by rule, status and recipient role', () => {
    const { outbox } = fakeWorld();
    outbox.enqueue([
      note('a', { aadObjectId: 'u1' }),
      { ...note('b', { role: 'supervisor', aadObjectId: 'boss' }), incidentId: 7 },
      { ...note('c', { role: 'channel', conversationId: '19:x@thread.tacv2' }), ruleId: 'login-lockout' },
    ]);
    const [a] = outbox.claimDue(START, 1);
    outbox.record(a!.id, { outcome: 'sent', conversationId: 'a:1', activityId: '1:9' }, START + 5, { baseMs: 1000, maxMs: 1000 });
    assert.deepEqual(outbox.items({ status: 'pending' }).map((i) => i.notification.idempotencyKey), ['b', 'c']);
    assert.deepEqual(outbox.items({ role: 'supervisor' }).map((i) => i.notification.incidentId), [7]);
    assert.deepEqual(outbox.items({ ruleId: 'login-lockout' }).map((i) => i.conversationKey), ['19:x@thread.tacv2']);
    assert.deepEqual(outbox.items({ status: ['sent', 'failed'] }).map((i) => [i.conversationId, i.activityId, i.sentAt, i.attempts]), [['a:1', '1:9', START + 5, 1]]);
    assert.equal(outbox.items({ limit: 1, offset: 1 })[0]!.notification.idempotencyKey, 'b');
  });

  it('counts what a rule delivered: new messages and card updates, sent only', () => {
    const { outbox } = fakeWorld();
    assert.deepEqual(outbox.sentByRule('forbidden-edit'), { messages: 0, updates: 0 });
    outbox.enqueue([
      note('m1', { aadObjectId: 'u1' }),
      note('m2', { aadObjectId: 'u2' }),
      note('m3', { aadObjectId: 'u3' }),
      note('u1', { role: 'supervisor', aadObjectId: 'boss', conversationId: 'a:boss', updateActivityId: '1:5' }),
      { ...note('other'), ruleId: 'login-lockout' },
    ]);
    for (const item of outbox.claimDue(START, 10)) {
      if (item.notification.idempotencyKey === 'm3') continue; // still sending: not delivered yet
      outbox.record(item.id, sentTo(item.notification), START + 5, { baseMs: 1000, maxMs: 1000 });
    }
    assert.deepEqual(outbox.sentByRule('forbidden-edit'), { messages: 2, updates: 1 });
    assert.deepEqual(outbox.sentByRule('login-lockout'), { messages: 1, updates: 0 });
    assert.deepEqual(outbox.sentByRule('no-such-rule'), { messages: 0, updates: 0 });
  });
});

describe('Dispatcher (fake clock)', () => {
  it('keeps one conversation at 7/s and reaches at least 90 % of it', async () => {
    const { outbox, clock, dispatcher } = fakeWorld();
    outbox.enqueue(fanOut(100, 1));
    const notifier = new ScriptedNotifier(clock);
    const totals = await dispatcher(notifier).drain();
    assert.deepEqual(totals, { sent: 100, retried: 0, unreachable: 0, failed: 0 });
    const times = notifier.calls.map((c) => c.time);
    assert.ok(maxInWindow(times) <= 7, `${maxInWindow(times)} in one second`);
    const rate = ((times.length - 1) / (times[times.length - 1]! - times[0]!)) * 1000;
    assert.ok(rate >= 0.9 * 7, `${rate.toFixed(2)}/s`);
  });

  it('keeps 1,000 notifications to 50 conversations under 7/s each and 50/s overall, at 90 % of 50/s or more', async () => {
    const { outbox, clock, dispatcher } = fakeWorld();
    // Conversation by conversation: the oldest 100 all belong to five people.
    outbox.enqueue(fanOut(1000, 50));
    const notifier = new ScriptedNotifier(clock);
    const totals = await dispatcher(notifier, { concurrency: 8 }).drain();
    assert.equal(totals.sent, 1000);
    const times = notifier.calls.map((c) => c.time);
    assert.ok(maxInWindow(times) <= 50, `${maxInWindow(times)} in one second overall`);
    for (const [conversation, calls] of groupBy(notifier.calls, (c) => c.conversation)) {
      assert.ok(maxInWindow(calls.map((c) => c.time)) <= 7, `${conversation}: ${maxInWindow(calls.map((c) => c.time))} in one second`);
    }
    const rate = ((times.length - 1) / (times[times.length - 1]! - times[0]!)) * 1000;
    assert.ok(rate >= 45, `${rate.toFixed(1)}/s overall`);
    assert.equal(new Set(notifier.calls.map((c) => c.key)).size, 1000);
  });

  it('sends in parallel, never more than `concurrency` at once', async () => {
    const { outbox, clock, dispatcher } = fakeWorld();
    outbox.enqueue(fanOut(200, 200));
    let inFlight = 0;
    let most = 0;
    const notifier = new ScriptedNotifier(clock, async (n) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return sentTo(n);
    });
    await dispatcher(notifier, { concurrency: 5 }).drain();
    assert.equal(notifier.calls.length, 200);
    assert.equal(most, 5);
  });

  it('retries a 429 no earlier than its Retry-After (3 s), and holds that conversation meanwhile', async () => {
    const { outbox, clock, dispatcher } = fakeWorld();
    outbox.enqueue([note('throttled', { aadObjectId: 'u1' }), note('same-person', { aadObjectId: 'u1' }, START + 1), note('other', { aadObjectId: 'u2' }, START + 2)]);
    const notifier = new ScriptedNotifier(clock, (n, attempt) =>
      n.idempotencyKey === 'throttled' && attempt === 1 ? { outcome: 'retry', reason: 'HTTP 429', retryAfterMs: 3000 } : sentTo(n),
    );
    const totals = await dispatcher(notifier, { backoff: { baseMs: 100, maxMs: 1000, random: () => 0.5 } }).drain();
    assert.deepEqual(totals, { sent: 3, retried: 1, unreachable: 0, failed: 0 });
    const [first, second] = notifier.timesOf('throttled');
    assert.ok(second! - first! >= 3000, `retried after ${second! - first!} ms`);
    assert.ok(notifier.timesOf('same-person')[0]! - first! >= 3000, 'the same conversation waited for the Retry-After too');
    assert.ok(notifier.timesOf('other')[0]! - first! < 100, 'another conversation did not wait');
    const item = outbox.find('throttled')!;
    assert.equal(item.status, 'sent');
    assert.equal(item.attempts, 2);
    assert.equal(item.lastError, 'HTTP 429');
  });

  it('backs off exponentially on 5xx and gives up after the maximum attempts (failed)', async () => {
    const { outbox, clock, dispatcher } = fakeWorld({ maxAttempts: 5 });
    outbox.enqueue([note('down', { aadObjectId: 'u1' })]);
    const notifier = new ScriptedNotifier(clock, () => ({ outcome: 'retry', reason: 'HTTP 503' }));
    const totals = await dispatcher(notifier, { backoff: { baseMs: 1000, maxMs: 4000, random: () => 0.5 } }).drain();
    assert.deepEqual(totals, { sent: 0, retried: 4, unreachable: 0, failed: 1 });
    const times = notifier.timesOf('down');
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Equal jitter at 0.5: three quarters of 1, 2, 4, 4 (capped) seconds.
    assert.deepEqual(gaps, [750, 1500, 3000, 3000]);
    const item = outbox.find('down')!;
    assert.equal(item.status, 'failed');
    assert.equal(item.attempts, 5);
    assert.equal(item.lastError, 'gave up after 5 attempts: HTTP 503');
  });

  it('records unreachable and permanently failed recipients once, without retrying', async () => {
    const { outbox, clock, dispatcher } = fakeWorld();
    outbox.enqueue([note('nobody', { userId: '4711' }), note('refused', { aadObjectId: 'u2' })]);
    const notifier = new ScriptedNotifier(clock, (n) =>
      n.idempotencyKey === 'nobody' ? { outcome: 'unreachable', reason: 'not in the directory' } : { outcome: 'failed', reason: 'HTTP 403' },
    );
    const totals = await dispatcher(notifier).drain();
    assert.deepEqual(totals, { sent: 0, retried: 0, unreachable: 1, failed: 1 });
    assert.equal(notifier.calls.length, 2);
    assert.deepEqual([outbox.find('nobody')!.status, outbox.find('nobody')!.lastError], ['unreachable', 'not in the directory']);
    assert.deepEqual([outbox.find('refused')!.status, outbox.find('refused')!.lastError], ['failed', 'HTTP 403']);
    assert.equal(outbox.nextAttemptAt(), undefined);
  });

  it('treats a throwing notifier as a retry and records the error', async () => {
    const { outbox, clock, dispatcher } = fakeWorld();
    outbox.enqueue([note('flaky', { aadObjectId: 'u1' }), note('weird', { aadObjectId: 'u2' })]);
    const notifier = new ScriptedNotifier(clock, (n, attempt) => {
      if (attempt === 1 && n.idempotencyKey === 'flaky') throw new Error('socket hang up');
      if (attempt === 1) return Promise.reject('not an Error');
      return sentTo(n);
    });
    const d = dispatcher(notifier);
    assert.deepEqual(await d.runOnce(), { sent: 0, retried: 2, unreachable: 0, failed: 0 });
    assert.deepEqual([outbox.find('flaky')!.status, outbox.find('flaky')!.lastError], ['pending', 'notifier threw: socket hang up']);
    assert.equal(outbox.find('weird')!.lastError, 'notifier threw: not an Error');
    assert.deepEqual(await d.drain(), { sent: 2, retried: 0, unreachable: 0, failed: 0 });
  });

  it('after a crash mid-run, recoverInFlight and a new dispatcher deliver every notification exactly once', async () => {
    const { state, clock, sleep, limiter, outbox } = fakeWorld({ leaseMs: 60_000 });
    outbox.enqueue(fanOut(300, 30));
    // The first process sends 40, then its sends hang (the process dies before Teams answers).
    const never = new Promise<Delivery>(() => undefined);
    const before: ScriptedNotifier = new ScriptedNotifier(clock, (n) => (before.calls.length <= 40 ? sentTo(n) : never));
    const crashed = new Dispatcher({ outbox, notifier: before, limiter, clock, sleep, concurrency: 4 });
    void crashed.drain();
    await waitFor(() => before.calls.length === 44);
    const delivered = before.calls.slice(0, 40).map((c) => c.key);
    assert.equal(new Outbox(state.db).counts().sent, 40);
    assert.ok(new Outbox(state.db).counts().sending > 4, 'claimed but unsent items are left behind too');

    // Restart: a new outbox over the same database; the leases run out; everything else resumes.
    const restarted = new Outbox(state.db, { leaseMs: 60_000 });
    assert.equal(restarted.recoverInFlight(clock()), 0, 'leases still valid: nothing taken back yet');
    clock.advance(60_000);
    const sending = restarted.counts().sending;
    assert.equal(restarted.recoverInFlight(clock()), sending);
    const after = new ScriptedNotifier(clock);
    const fresh = new Dispatcher({ outbox: restarted, notifier: after, limiter: new RateLimiter({ perConversationPerSecond: 7, perTenantPerSecond: 50, clock }), clock, sleep });
    await fresh.drain();
    delivered.push(...after.calls.map((c) => c.key));
    assert.equal(delivered.length, 300, 'each delivered once');
    assert.equal(new Set(delivered).size, 300, 'none lost');
    assert.deepEqual(restarted.counts(), { pending: 0, sending: 0, sent: 300, unreachable: 0, failed: 0 });
  });

  it('is at-least-once in one window: a crash after Teams accepted but before recording resends that one', async () => {
    const { state, clock, sleep, limiter, outbox } = fakeWorld({ leaseMs: 60_000 });
    outbox.enqueue(fanOut(20, 20));
    const accepted: string[] = [];
    const never = new Promise<Delivery>(() => undefined);
    const before = new ScriptedNotifier(clock, (n) => {
      if (accepted.length < 10) {
        accepted.push(n.idempotencyKey);
        return accepted.length < 10 ? sentTo(n) : never; // the tenth: accepted, then the process dies
      }
      return never;
    });
    void new Dispatcher({ outbox, notifier: before, limiter, clock, sleep, concurrency: 1 }).drain();
    await waitFor(() => accepted.length === 10);
    // The only sender restarts: it takes everything back at once instead of waiting out the lease.
    const restarted = new Outbox(state.db);
    const sending = restarted.counts().sending;
    assert.ok(sending >= 1);
    assert.equal(restarted.recoverInFlight(clock(), { ignoreLease: true }), sending);
    const after = new ScriptedNotifier(clock);
    await new Dispatcher({ outbox: restarted, notifier: after, limiter, clock, sleep }).drain();
    const all = [...accepted, ...after.calls.map((c) => c.key)];
    assert.equal(new Set(all).size, 20, 'none lost');
    assert.deepEqual(
      all.filter((k, i) => all.indexOf(k) !== i),
      [accepted[9]],
      'exactly the one in flight at the crash went twice',
    );
    assert.equal(restarted.find(accepted[9]!)!.attempts, 2);
  });

  it('stop() ends a run promptly and gives unsent claims back', async () => {
    const { outbox, clock, dispatcher } = fakeWorld();
    outbox.enqueue(fanOut(100, 1));
    const notifier = new ScriptedNotifier(clock);
    // A sleep that really yields, so stop() can land in the middle.
    const d = dispatcher(notifier, {
      sleep: async (ms) => {
        clock.advance(ms);
        await new Promise((resolve) => setImmediate(resolve));
      },
    });
    const run = d.drain();
    await waitFor(() => notifier.calls.length >= 10);
    await d.stop();
    await run;
    const counts = outbox.counts();
    assert.equal(counts.sending, 0);
    assert.equal(counts.sent, notifier.calls.length);
    assert.equal(counts.sent + counts.pending, 100);
    assert.ok(counts.pending > 0);
  });

  it('the loop wakes on nudge(), survives a failing pass, and stops', async () => {
    const state = new SqliteStateStore(':memory:');
    let failures = 1;
    class FlakyOutbox extends Outbox {
      override claimDue(now: number, limit: number, options?: ClaimOptions) {
        if (failures-- > 0) throw new Error('disk I/O error');
        return super.claimDue(now, limit, options);
      }
    }
    const outbox = new FlakyOutbox(state.db);
    const notifier = new ScriptedNotifier(systemClock);
    const logger = memoryLogger();
    const limiter = new RateLimiter({ perConversationPerSecond: 7, perTenantPerSecond: 50, clock: systemClock });
    const dispatcher = new Dispatcher({ outbox, notifier, limiter, clock: systemClock, logger });
    dispatcher.start(60_000);
    await waitFor(() => logger.entries.some((e) => e.msg === 'dispatcher pass failed'));
    outbox.enqueue([note('urgent', { aadObjectId: 'u1' }, Date.now())]);
    const nudged = Date.now();
    dispatcher.nudge();
    await waitFor(() => notifier.calls.length === 1, 2000);
    assert.ok(Date.now() - nudged < 1000, 'delivered right after the nudge, not at the next 60 s tick');
    const stopping = Date.now();
    await dispatcher.stop();
    assert.ok(Date.now() - stopping < 1000, 'stop() does not wait for the tick');
    outbox.enqueue([note('later', { aadObjectId: 'u2' }, Date.now())]);
    dispatcher.nudge();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(notifier.calls.length, 1, 'nothing sent after stop');
  });
});

describe('HttpNotifier against the local connector (real clock)', function () {
  this.timeout(180_000);
  let connector: LocalConnector;
  afterEach(async () => connector?.stop());

  it('maps 2xx, 429 with Retry-After, 5xx, dropped connections and other 4xx to delivery outcomes', async () => {
    connector = await startLocalConnector({ retryAfterSeconds: 2 });
    const notifier = new HttpNotifier(connector.url);
    const n = note('k1', { aadObjectId: 'u1' });
    connector.failNext(1, 429);
    assert.deepEqual(await notifier.deliver(n), { outcome: 'retry', reason: 'HTTP 429', retryAfterMs: 2000 });
    connector.failNext(1, 503);
    assert.deepEqual(await notifier.deliver(n), { outcome: 'retry', reason: 'HTTP 503' });
    connector.failNext(1, 'reset');
    const reset = await notifier.deliver(n);
    assert.ok(reset.outcome === 'retry' && /connection failed/.test(reset.reason), JSON.stringify(reset));
    connector.failNext(1, 403);
    assert.deepEqual(await notifier.deliver(n), { outcome: 'failed', reason: 'HTTP 403' });
    assert.deepEqual(await notifier.deliver(n), { outcome: 'sent', conversationId: 'u1', activityId: 'act-1' });
    assert.deepEqual(await notifier.deliver(note('k2')), { outcome: 'unreachable', reason: 'no conversation, Entra id or user id for the recipient' });
    assert.equal(connector.received.length, 1);
    assert.deepEqual(connector.received[0]!.activity.channelData, { idempotencyKey: 'k1' });
    assert.deepEqual(connector.stats.injected, { '429': 1, '503': 1, reset: 1, '403': 1 });
    await connector.stop();
    const down = await notifier.deliver(n);
    assert.ok(down.outcome === 'retry' && /connection failed/.test(down.reason), JSON.stringify(down));
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2020-06-12T14:30:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter('0.5', now), 500);
    assert.equal(parseRetryAfter('Fri, 12 Jun 2020 14:30:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
  });

  it('the connector creates 1:1 conversations, updates activities and refuses more than 7/s per conversation and 50/s overall', async () => {
    connector = await startLocalConnector();
    const post = (path: string, body: unknown, method = 'POST') =>
      fetch(`${connector.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = await post('/v3/conversations', { bot: { id: '28:bot' }, members: [{ id: '29:u1' }], tenantId: 't1', channelData: { tenant: { id: 't1' } } });
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    const again = (await (await post('/v3/conversations', { members: [{ id: '29:u1' }], tenantId: 't1' })).json()) as { id: string };
    assert.equal(again.id, id, 'the same person has one 1:1 chat');
    assert.equal((await post('/v3/conversations', { members: [] })).status, 400);

    const sends = [];
    for (let i = 0; i < 8; i++) sends.push(await post(`/v3/conversations/${encodeURIComponent(id)}/activities`, { type: 'message', text: `m${i}` }));
    assert.deepEqual(sends.map((r) => r.status), [201, 201, 201, 201, 201, 201, 201, 429]);
    assert.ok(Number(sends[7]!.headers.get('retry-after')) >= 1);
    const activityId = ((await sends[0]!.json()) as { id: string }).id;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal((await post(`/v3/conversations/${encodeURIComponent(id)}/activities/${activityId}`, { type: 'message', text: 'edited' }, 'PUT')).status, 200);
    assert.equal((await post(`/v3/conversations/${encodeURIComponent(id)}/activities/nope`, { type: 'message' }, 'PUT')).status, 404);

    await new Promise((resolve) => setTimeout(resolve, 1000));
    const burst = await Promise.all(Array.from({ length: 60 }, (_, i) => post(`/v3/conversations/c${i}/activities`, { type: 'message', text: 'x' })));
    assert.equal(burst.filter((r) => r.status === 201).length, 50);
    assert.equal(burst.filter((r) => r.status === 429).length, 10);
    assert.equal(connector.stats.limited, 11);
    assert.deepEqual(
      connector.received.map((r) => r.kind).filter((k) => k === 'update'),
      ['update'],
    );
  });

  it('delivers 1,000 notifications to 20 conversations exactly once through injected 429s and 503s, never tripping the limits', async () => {
    connector = await startLocalConnector({ seed: 42, rate429: 0.03, rate503: 0.03, retryAfterSeconds: 1 });
    const state = new SqliteStateStore(':memory:');
    const outbox = new Outbox(state.db);
    outbox.enqueue(fanOut(1000, 20, Date.now()));
    const limiter = new RateLimiter({ perConversationPerSecond: 7, perTenantPerSecond: 50, clock: systemClock });
    const dispatcher = new Dispatcher({
      outbox,
      notifier: new HttpNotifier(connector.url),
      limiter,
      clock: systemClock,
      concurrency: 16,
      backoff: { baseMs: 250, maxMs: 2000 },
    });
    const started = Date.now();
    const totals = await dispatcher.drain({ timeoutMs: 150_000 });
    const seconds = (Date.now() - started) / 1000;

    const keys = connector.received.map((r) => (r.activity.channelData as { idempotencyKey: string }).idempotencyKey);
    assert.equal(keys.length, 1000, 'every notification accepted once');
    assert.equal(new Set(keys).size, 1000, 'no duplicates, none lost');
    assert.deepEqual(outbox.counts(), { pending: 0, sending: 0, sent: 1000, unreachable: 0, failed: 0 });
    assert.equal(totals.sent, 1000);
    const injected = (connector.stats.injected['429'] ?? 0) + (connector.stats.injected['503'] ?? 0);
    assert.ok((connector.stats.injected['429'] ?? 0) > 0 && (connector.stats.injected['503'] ?? 0) > 0, JSON.stringify(connector.stats));
    assert.equal(totals.retried, injected, 'every injected fault was retried');
    assert.equal(connector.stats.limited, 0, 'the connector never had to refuse for exceeding its limits');
    assert.ok(seconds < 60, `took ${seconds.toFixed(1)} s`);
  });
});
