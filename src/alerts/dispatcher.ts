import { Clock } from '../clock';
import { createLogger, Logger } from '../logger';
import { Delivery, Notifier } from './notifications';
import { BackoffPolicy, Outbox, OutboxItem, OutboxStatus } from './outbox';
import { RateLimiter } from './rate-limiter';

/**
 * Works off the outbox: claims due notifications, sends each through the notifier as fast as
 * Teams' limits allow (the {@link RateLimiter} decides, the injected `sleep` waits), and records
 * every outcome in the outbox. Runs once (`runOnce`, `drain`) or as a loop (`start`) that the
 * engine `nudge`s after enqueuing, so a new notification does not wait for the next tick.
 */

/** Waits `ms`; may return early when `signal` aborts (the dispatcher is stopping or was nudged). */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface DispatcherOptions {
  outbox: Outbox;
  notifier: Notifier;
  limiter: RateLimiter;
  clock: Clock;
  /** Default: a real timer. Tests pass one that advances a manual clock. */
  sleep?: Sleep;
  /** Default: silent. */
  logger?: Logger;
  /**
   * Sends in flight at once. Default 16: at Teams' 50/s and a few hundred ms per call, about 15
   * are needed to reach the limit; the limiter, not this, keeps the rate down.
   */
  concurrency?: number;
  /** Retry spacing after a `retry` without a longer `Retry-After`. Default 1 s doubling up to 5 min. */
  backoff?: BackoffPolicy;
  /** The tenant's rate-limit key (all sends of this bot share it). Default `default`. */
  tenantKey?: string;
  /** Most items claimed and waiting at once. Default 100. */
  batchSize?: number;
  /**
   * A claimed item whose conversation is held longer than this (a `Retry-After`) goes back to
   * the outbox instead of stalling the round. Default 500 ms: above the longest wait the limits
   * alone cause (about 150 ms between sends into one conversation at 7/s), below the shortest
   * Retry-After Teams gives (1 s).
   */
  releaseAfterMs?: number;
}

/** Outcomes recorded in one run: `retried` went back to pending, `failed` includes gave-ups. */
export interface DispatchTotals {
  sent: number;
  retried: number;
  unreachable: number;
  failed: number;
}

/**
 * How often a pass tops up its working set (ms). Often enough that a conversation whose claimed
 * items are all sent gets its next ones well within a cycle through the set (100 items at 50/s:
 * 2 s); rarely enough that the claim query (it ranks everything due: about 8 ms for 10,000
 * pending) stays small next to the limiter's timing.
 */
const CLAIM_INTERVAL_MS = 500;

const zero = (): DispatchTotals => ({ sent: 0, retried: 0, unreachable: 0, failed: 0 });

function add(into: DispatchTotals, more: DispatchTotals): void {
  into.sent += more.sent;
  into.retried += more.retried;
  into.unreachable += more.unreachable;
  into.failed += more.failed;
}

/** A timer that resolves early (never rejects) when the signal aborts. */
const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * See the file comment. Claims are atomic, so two dispatchers over one outbox never try the same
 * item at once; but the limiter's buckets live in this process, so run one dispatcher per bot
 * and tenant, or together they would exceed Teams' limits.
 */
export class Dispatcher {
  private readonly outbox: Outbox;
  private readonly notifier: Notifier;
  private readonly limiter: RateLimiter;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly logger: Logger;
  private readonly concurrency: number;
  private readonly backoff: BackoffPolicy;
  private readonly tenantKey: string;
  private readonly batchSize: number;
  private readonly releaseAfterMs: number;

  private stopping = false;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private nudged = false;
  private wake: (() => void) | undefined;

  constructor(options: DispatcherOptions) {
    this.outbox = options.outbox;
    this.notifier = options.notifier;
    this.limiter = options.limiter;
    this.clock = options.clock;
    this.sleep = options.sleep ?? realSleep;
    this.logger = options.logger ?? createLogger({ sink: () => undefined });
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 16));
    this.backoff = options.backoff ?? { baseMs: 1000, maxMs: 5 * 60_000 };
    this.tenantKey = options.tenantKey ?? 'default';
    this.batchSize = Math.max(1, Math.floor(options.batchSize ?? 100));
    this.releaseAfterMs = options.releaseAfterMs ?? 500;
  }

  /**
   * One pass: takes back abandoned claims, then sends due items until none is left (items
   * retried during the pass wait for a later pass). Resolves early, giving unsent claims back,
   * when `stop()` is called.
   *
   * The pass keeps a working set of claimed items, grouped by conversation, and one pacer:
   * - it sends, among the conversations the limiter lets through now, from the one with the
   *   longest backlog (its oldest item first): at 7/s each, the longest backlogs take longest to
   *   drain, so they go first, and a conversation set back by a Retry-After catches up instead
   *   of trickling out alone at the end (the set is small, so nobody waits more than about
   *   `batchSize / 50` seconds for it);
   * - every `CLAIM_INTERVAL_MS` it tops the set up with items of conversations not in it, so a
   *   conversation whose claimed items are all sent gets its next ones, and a set narrowed to a
   *   few conversations (each capped at 7/s) widens again; sooner when such a conversation has
   *   more due and nothing else may go although the tenant could;
   * - otherwise it sleeps for the shortest wait the limiter gives;
   * - a conversation held by a Retry-After longer than `releaseAfterMs` goes back to the outbox.
   * Up to `concurrency` sends are in flight.
   */
  async runOnce(): Promise<DispatchTotals> {
    const totals = zero();
    const recovered = this.outbox.recoverInFlight(this.clock());
    if (recovered) this.logger.warn('outbox: took back interrupted sends', { count: recovered });
    // About one second's worth per conversation at a time (see Outbox.claimDue).
    const perConversation = Math.max(1, Math.ceil(this.limiter.perConversationPerSecond));
    const queues = new Map<string, OutboxItem[]>();
    /** Due items per conversation in the set, by the claim's count, less what has been sent since. */
    const backlog = new Map<string, number>();
    let size = 0;
    const inFlight = new Set<Promise<void>>();
    const longer = (key: string, queue: OutboxItem[], than: { key: string; queue: OutboxItem[] }) => {
      const a = backlog.get(key)!;
      const b = backlog.get(than.key)!;
      return a > b || (a === b && queue[0]!.id < than.queue[0]!.id);
    };
    let claimAgainAt = Number.NEGATIVE_INFINITY;
    let starved = false;
    const claim = (now: number) => {
      const more = this.outbox.claimDue(now, this.batchSize - size, { perConversation, excludeConversations: [...queues.keys()] });
      for (const item of more) {
        const queue = queues.get(item.conversationKey);
        if (queue) queue.push(item);
        else queues.set(item.conversationKey, [item]);
        backlog.set(item.conversationKey, item.backlog ?? queues.get(item.conversationKey)!.length);
      }
      size += more.length;
      claimAgainAt = now + CLAIM_INTERVAL_MS;
    };
    try {
      while (!this.stopping) {
        if (inFlight.size >= this.concurrency) {
          await Promise.race(inFlight);
          continue;
        }
        const now = this.clock();
        if (size === 0 || (size < this.batchSize && now >= claimAgainAt)) {
          claim(now);
          if (size === 0) {
            if (!inFlight.size) break;
            // Nothing claimable now: let the sends finish, then look once more before ending the pass.
            await Promise.all(inFlight);
            continue;
          }
        }
        let chosen: { key: string; queue: OutboxItem[] } | undefined;
        let soonest = Number.POSITIVE_INFINITY;
        for (const [key, queue] of queues) {
          const wait = this.limiter.wait(key, this.tenantKey);
          if (wait > this.releaseAfterMs) {
            this.outbox.release(queue.map((i) => i.id), now + wait, now);
            queues.delete(key);
            backlog.delete(key);
            size -= queue.length;
            // Take them up again as soon as the hold ends, not at the next top-up after it.
            claimAgainAt = Math.min(claimAgainAt, now + wait);
          } else if (wait > 0) {
            soonest = Math.min(soonest, wait);
          } else if (!chosen || longer(key, queue, chosen)) {
            chosen = { key, queue };
          }
        }
        if (chosen) {
          const item = chosen.queue.shift()!;
          size--;
          const left = backlog.get(chosen.key)! - 1;
          backlog.set(chosen.key, left);
          if (!chosen.queue.length) {
            queues.delete(chosen.key);
            backlog.delete(chosen.key);
            if (left > 0) starved = true;
          }
          this.limiter.take(item.conversationKey, this.tenantKey);
          const send: Promise<void> = this.send(item, totals).finally(() => inFlight.delete(send));
          inFlight.add(send);
          continue;
        }
        // A conversation ran out of claimed items with more due, and nothing else may go although
        // the tenant could: fetch its next ones now rather than at the next top-up.
        if (starved && size < this.batchSize && this.limiter.waitTenant(this.tenantKey) === 0) {
          starved = false;
          const before = size;
          claim(now);
          if (size > before) continue;
        }
        if (size > 0) await this.sleep(soonest, this.abort.signal);
      }
    } finally {
      const left = [...queues.values()].flat();
      if (left.length) this.outbox.release(left.map((i) => i.id), this.clock());
      await Promise.all(inFlight);
    }
    return totals;
  }

  /**
   * Runs passes until nothing is pending, sleeping until the next retry is due in between:
   * `alerts run`, the benchmark and tests. Items `sending` under another live claim are not
   * waited for. Stops at `timeoutMs` (by the clock) or on `stop()`.
   */
  async drain(options: { timeoutMs?: number } = {}): Promise<DispatchTotals> {
    const totals = zero();
    const deadline = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : this.clock() + options.timeoutMs;
    while (!this.stopping) {
      add(totals, await this.runOnce());
      const next = this.outbox.nextAttemptAt();
      const now = this.clock();
      if (next === undefined || now >= deadline) break;
      if (next > now) await this.sleep(Math.min(next, deadline) - now, this.abort.signal);
    }
    return totals;
  }

  /**
   * Starts the background loop: a pass, then sleep until the next retry is due, `intervalMs` at
   * most, or until `nudge()`. Errors of a pass are logged and the loop goes on.
   */
  start(intervalMs = 5000): void {
    if (this.loop) return;
    this.stopping = false;
    this.abort = new AbortController();
    this.loop = (async () => {
      while (!this.stopping) {
        let wait = intervalMs;
        try {
          await this.runOnce();
          const next = this.outbox.nextAttemptAt();
          if (next !== undefined) wait = Math.min(intervalMs, Math.max(0, next - this.clock()));
        } catch (err) {
          this.logger.error('dispatcher pass failed', { error: err });
        }
        if (!this.stopping) await this.idle(wait);
      }
    })();
  }

  /**
   * Stops the loop (or a running `runOnce`/`drain`): no new sends start, claimed but unsent
   * items go back to pending, sends in flight finish and are recorded. A stopped dispatcher does
   * nothing more until `start()` is called again.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  /** New items were enqueued: run a pass now instead of at the next tick. */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  private async idle(ms: number): Promise<void> {
    if (this.nudged) {
      this.nudged = false;
      return;
    }
    const controller = new AbortController();
    const stop = () => controller.abort();
    this.abort.signal.addEventListener('abort', stop, { once: true });
    // Raced as well as aborted: an injected sleep may ignore the signal.
    const woken = new Promise<void>((resolve) => {
      this.wake = () => {
        controller.abort();
        resolve();
      };
    });
    try {
      await Promise.race([this.sleep(ms, controller.signal), woken]);
    } finally {
      this.wake = undefined;
      this.nudged = false;
      this.abort.signal.removeEventListener('abort', stop);
    }
  }

  private async send(item: OutboxItem, totals: DispatchTotals): Promise<void> {
    let delivery: Delivery;
    try {
      delivery = await this.notifier.deliver(item.notification);
    } catch (err) {
      // A notifier bug or an unexpected error must not kill the loop: try again later.
      delivery = { outcome: 'retry', reason: `notifier threw: ${messageOf(err)}` };
    }
    let status: OutboxStatus | undefined;
    try {
      status = this.outbox.record(item.id, delivery, this.clock(), this.backoff);
    } catch (err) {
      // The item stays `sending` until its lease expires, then recoverInFlight takes it back.
      this.logger.error('outbox: could not record a delivery', { id: item.id, outcome: delivery.outcome, error: err });
      return;
    }
    if (delivery.outcome === 'retry' && delivery.retryAfterMs) this.limiter.defer(item.conversationKey, delivery.retryAfterMs);
    const fields = {
      id: item.id,
      ruleId: item.notification.ruleId,
      role: item.notification.recipient.role,
      attempt: item.attempts + 1,
      reason: delivery.outcome === 'sent' ? undefined : delivery.reason,
    };
    switch (status) {
      case 'sent':
        totals.sent++;
        break;
      case 'pending':
        totals.retried++;
        this.logger.info('notification will be retried', fields);
        break;
      case 'unreachable':
        totals.unreachable++;
        this.logger.info('recipient unreachable', fields);
        break;
      case 'failed':
        totals.failed++;
        this.logger.warn('notification failed', fields);
        break;
      default:
        break;
    }
  }
}
