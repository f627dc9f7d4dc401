import { LogEvent } from './log-event';

/**
 * Masks secrets before an event is shown to anyone: in chat answers, cards, the tab and the CLI.
 * The store keeps events as logged; everything that displays them goes through `redactEvent`.
 */
export const MASK = '••••••';

const SECRET_KEY = /pass(?:word|wd|phrase)?|pwd|secret|token|authori[sz]ation|api[-_]?key|apikey|access[-_]?key|credential|cookie|session[-_]?id|private[-_]?key|signature|\bsig\b|\bauth\b/i;

/** True for a parameter or header name whose value is a secret (`password`, `newPwd`, `X-Api-Key`, `access_token`). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

const KEY_NAMES = String.raw`[\w.-]*(?:pass(?:word|wd|phrase)?|pwd|secret|token|authori[sz]ation|api[-_]?key|apikey|access[-_]?key|credentials?|cookie|session[-_]?id|private[-_]?key|signature)[\w.-]*`;
// key=value, key: value, "key":"value", key = 'value' (the value ends at a quote, space, &, comma, ; or })
const KEY_VALUE = new RegExp(String.raw`(["']?\b${KEY_NAMES}["']?\s*[:=]\s*)(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s"'&,;}\]]+))`, 'gi');
const BEARER = /\b(Bearer|Basic|Digest|NTLM|Negotiate)\s+[A-Za-z0-9._~+/=-]{6,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const URL_PASSWORD = /(\/\/[^/\s:@]+:)[^/\s@]+@/g;

/** Masks secret-looking values inside free text (messages, stack traces, raw parameters). */
export function redactText(text: string): string {
  return text
    .replace(BEARER, `$1 ${MASK}`)
    .replace(JWT, MASK)
    .replace(URL_PASSWORD, `$1${MASK}@`)
    .replace(KEY_VALUE, (_m, head: string, dq?: string, sq?: string) => `${head}${dq !== undefined ? `"${MASK}"` : sq !== undefined ? `'${MASK}'` : MASK}`);
}

function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSecretKey(k) ? MASK : redactValue(v)]));
  }
  return value;
}

/** Request parameters as logged (JSON, a query string or text) with secret values masked. */
export function redactParams(raw: string): string {
  const text = raw.trim();
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      return JSON.stringify(redactValue(JSON.parse(text)));
    } catch {
      return redactText(raw);
    }
  }
  if (/^[^=&\s]+=[^&]*(?:&[^=&\s]+=[^&]*)*$/.test(text)) {
    return text
      .split('&')
      .map((pair) => {
        const [k, ...v] = pair.split('=');
        return isSecretKey(decodeURIComponentSafe(k!)) ? `${k}=${MASK}` : `${k}=${redactText(v.join('='))}`;
      })
      .join('&');
  }
  return redactText(raw);
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A copy of the event with every secret masked: message, error texts, parameters, labels. */
export function redactEvent<T extends LogEvent>(event: T): T {
  const out = { ...event };
  out.message = redactText(event.message);
  if (event['error.message']) out['error.message'] = redactText(event['error.message']);
  if (event['error.stack_trace']) out['error.stack_trace'] = redactText(event['error.stack_trace']);
  if (event['http.request.params']) out['http.request.params'] = redactParams(event['http.request.params']);
  if (event['url.path']) out['url.path'] = redactText(event['url.path']);
  if (event.params) out.params = redactValue(event.params) as Record<string, string>;
  if (event.labels) out.labels = redactValue(event.labels) as Record<string, string>;
  return out;
}
