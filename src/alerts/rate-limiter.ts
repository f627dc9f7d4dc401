import { Clock } from '../clock';

/**
 * Token buckets that keep proactive sending under Teams' limits: per conversation (7 messages/s)
 * and per app per tenant (50/s). Pure with respect to the injected clock: no timers, the caller
 * sleeps for the time `take` returns.
 *
 * Teams (and test/support/local-connector.ts) count messages in sliding 1-second windows, which a
 * plain bucket of N tokens refilled at N/s does not respect: it lets N go at once and N more
 * during the same second. So each bucket is one token deep (plus a small tolerance) and refills
 * at N per (1 s + margin + tolerance), kept as a "theoretical arrival time" (GCRA, the usual
 * encoding of such a bucket in one number per key). This guarantees that N + 1 sends always span
 * at least 1 s + margin, so they cannot land in one of Teams' 1-s windows even when the network
 * delays an earlier request by up to `marginMs` more than a later one.
 */
export interface RateLimiterOptions {
  /** Teams: 7. */
  perConversationPerSecond: number;
  /** Teams: 50 per app per tenant. */
  perTenantPerSecond: number;
  clock: Clock;
  /**
   * Jitter allowance (ms) between here and the receiver's clock: how much later one request may
   * arrive than the next without the receiver counting more than its limit in 1 s. Default 50.
   */
  marginMs?: number;
  /**
   * How early (ms) a send may go relative to its slot, so that a caller whose timer fires late
   * (timer granularity, or the event loop busy with a claim query) does not lose that time for
   * good. Costs about tolerance / 1 s of the rate. Default 10.
   */
  toleranceMs?: number;
}

interface Limit {
  /** Spacing between sends at the sustained rate (ms). */
  interval: number;
  tolerance: number;
}

/** Keyed buckets: key → theoretical arrival time (epoch ms). A key absent is an idle, full bucket. */
class Buckets {
  private readonly tat = new Map<string, number>();
  private pruneAt = 1024;

  constructor(readonly limit: Limit) {}

  /** Ms until a send for `key` may go (0: now). */
  wait(key: string, now: number): number {
    const tat = this.tat.get(key);
    return tat === undefined ? 0 : Math.max(0, tat - this.limit.tolerance - now);
  }

  consume(key: string, now: number): void {
    this.tat.set(key, Math.max(this.tat.get(key) ?? now, now) + this.limit.interval);
    if (this.tat.size > this.pruneAt) this.prune(now);
  }

  /** Nothing may go for `key` before now + ms. */
  hold(key: string, now: number, ms: number): void {
    this.tat.set(key, Math.max(this.tat.get(key) ?? now, now + ms + this.limit.tolerance));
  }

  /**
   * A bucket whose arrival time has passed is full, the same as one never seen: forget it, so ten
   * thousand one-off conversations do not stay in memory. Amortised: the threshold doubles with
   * what is left, so a map of busy keys is not rescanned on every send.
   */
  private prune(now: number): void {
    for (const [key, tat] of this.tat) if (tat <= now) this.tat.delete(key);
    this.pruneAt = Math.max(1024, this.tat.size * 2);
  }
}

/** See {@link RateLimiterOptions}. One instance per process and notifier (the buckets are its state). */
export class RateLimiter {
  readonly perConversationPerSecond: number;
  readonly perTenantPerSecond: number;
  private readonly clock: Clock;
  private readonly conversations: Buckets;
  private readonly tenants: Buckets;

  constructor(options: RateLimiterOptions) {
    for (const name of ['perConversationPerSecond', 'perTenantPerSecond'] as const) {
      if (!(options[name] > 0)) throw new RangeError(`${name} must be positive, got ${options[name]}`);
    }
    const margin = options.marginMs ?? 50;
    const tolerance = options.toleranceMs ?? 10;
    if (margin < 0 || tolerance < 0) throw new RangeError('marginMs and toleranceMs must not be negative');
    this.perConversationPerSecond = options.perConversationPerSecond;
    this.perTenantPerSecond = options.perTenantPerSecond;
    this.clock = options.clock;
    const limit = (perSecond: number): Limit => ({ interval: (1000 + margin + tolerance) / perSecond, tolerance });
    this.conversations = new Buckets(limit(options.perConversationPerSecond));
    this.tenants = new Buckets(limit(options.perTenantPerSecond));
  }

  /**
   * Asks to send one message into a conversation of a tenant.
   * @returns 0 when it may go now (a token is taken from both buckets), otherwise the ms to wait
   *   before asking again (nothing is taken).
   */
  take(conversationKey: string, tenantKey: string): number {
    const wait = this.wait(conversationKey, tenantKey);
    if (wait > 0) return wait;
    const now = this.clock();
    this.conversations.consume(conversationKey, now);
    this.tenants.consume(tenantKey, now);
    return 0;
  }

  /** What `take` would answer, without taking anything: ms to wait (whole, rounded up), 0 if none. */
  wait(conversationKey: string, tenantKey: string): number {
    const now = this.clock();
    return Math.ceil(Math.max(this.conversations.wait(conversationKey, now), this.tenants.wait(tenantKey, now)));
  }

  /** Ms until the tenant's bucket has a token, whatever the conversation (0: now). */
  waitTenant(tenantKey: string): number {
    return Math.ceil(this.tenants.wait(tenantKey, this.clock()));
  }

  /** Holds a conversation for `ms` (Teams answered 429 with `Retry-After` for it). */
  defer(conversationKey: string, ms: number): void {
    this.conversations.hold(conversationKey, this.clock(), ms);
  }

  /** The sustained rates this limiter lets through (messages/s), slightly under the limits by design. */
  sustainedPerSecond(): { conversation: number; tenant: number } {
    return { conversation: 1000 / this.conversations.limit.interval, tenant: 1000 / this.tenants.limit.interval };
  }
}
