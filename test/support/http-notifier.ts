import { Delivery, Notification, Notifier } from '../../src/alerts/notifications';
import { conversationKey } from '../../src/alerts/outbox';

/**
 * A minimal notifier over HTTP for tests and the fan-out benchmark: POSTs the card to
 * `<baseUrl>/v3/conversations/<conversation key>/activities` (the local connector accepts any
 * conversation id) and maps the answer the way the Teams notifier must: 2xx sent, 429 retry with
 * its Retry-After, 5xx and connection errors retry, other 4xx failed. The idempotency key rides
 * along in `channelData` so the connector's records can be checked for exactly-once.
 */
export class HttpNotifier implements Notifier {
  readonly name = 'http';
  private readonly timeoutMs: number;

  constructor(
    private readonly baseUrl: string,
    options: { timeoutMs?: number } = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async deliver(notification: Notification): Promise<Delivery> {
    const conversation = conversationKey(notification.recipient);
    if (!conversation) return { outcome: 'unreachable', reason: 'no conversation, Entra id or user id for the recipient' };
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.baseUrl}/v3/conversations/${encodeURIComponent(conversation)}/activities`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'message',
          attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: notification.card }],
          channelData: { idempotencyKey: notification.idempotencyKey },
        }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      return { outcome: 'retry', reason: `connection failed: ${err instanceof Error ? err.message : String(err)}${cause}` };
    }
    if (response.ok) {
      const activityId = parseId(text);
      return activityId ? { outcome: 'sent', conversationId: conversation, activityId } : { outcome: 'sent', conversationId: conversation };
    }
    if (response.status === 429) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
      return retryAfterMs === undefined ? { outcome: 'retry', reason: 'HTTP 429' } : { outcome: 'retry', reason: 'HTTP 429', retryAfterMs };
    }
    if (response.status >= 500) return { outcome: 'retry', reason: `HTTP ${response.status}` };
    return { outcome: 'failed', reason: `HTTP ${response.status}` };
  }
}

function parseId(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { id?: unknown };
    return typeof body.id === 'string' ? body.id : undefined;
  } catch {
    return undefined;
  }
}

/** `Retry-After` as ms: delta-seconds (fractions tolerated) or an HTTP date; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
