import { isIP } from 'node:net';

/**
 * The words of a chat question. Nothing here is query syntax: a token is a word, a number, a
 * quoted phrase, an address, a date, a time, a path, or something the parser will not accept.
 */
export type TokenKind = 'word' | 'number' | 'phrase' | 'ip' | 'date' | 'time' | 'path' | 'sep' | 'other';

export interface Token {
  kind: TokenKind;
  /** As typed (without quotes for a phrase). */
  text: string;
  /** Lower case, for matching words. */
  lower: string;
}

export const MAX_QUESTION_LENGTH = 500;

/** Characters that change how text looks without being text: zero-width and direction controls. */
const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]/g;

export class QuestionError extends Error {}

/** Normalises a question: Unicode compatibility forms, no invisible characters, plain quotes. */
export function normalizeQuestion(text: string): string {
  return text
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .replace(/[\u201C\u201D\u201E\u201F\u00AB\u00BB\u2033]/g, '"')
    .replace(/[\u2018\u2019\u201A\u201B\u2032]/g, "'")
    .replace(/[\u2013\u2014\u2212]/g, '-')
    .replace(/\s+/g, ' ')
    .trim();
}

const TIME = /^(?:\d{1,2}:\d{2}(?::\d{2})?\s?(?:am|pm)?|\d{1,2}\s?(?:am|pm)|noon|midnight)$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Splits a normalised question into tokens; throws QuestionError for an unmatched quote. */
export function tokenizeQuestion(text: string): Token[] {
  const tokens: Token[] = [];
  const re =
    /"([^"]*)"|'([^']*)'(?=[\s,.?!;:)]|$)|(\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?)(?![\w.])|(\d{4}-\d{2}-\d{2})(?![\w-])|(\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]m\b)?(?![\w:])|\d{1,2}\s?[ap]m\b)|([0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}(?:\/\d{1,3})?)(?![\w:])|(\/[^\s"',;]*)|([\p{L}\p{N}_][\p{L}\p{N}_.@'-]*[\p{L}\p{N}_]|[\p{L}\p{N}_])|([,;!?]|\.(?=\s|$))|(\S)/gu;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const [whole, dq, sq, ipv4, date, time, ipv6, path, word, sep, other] = m;
    if (dq !== undefined || sq !== undefined) tokens.push(tok('phrase', (dq ?? sq)!));
    else if (ipv4 !== undefined) tokens.push(tok(isIP(ipv4.split('/')[0]!) ? 'ip' : 'other', ipv4));
    else if (ipv6 !== undefined) tokens.push(tok(isIP(ipv6.split('/')[0]!) ? 'ip' : 'other', ipv6));
    else if (date !== undefined) tokens.push(tok('date', date));
    else if (time !== undefined) tokens.push(tok('time', time.replace(/\s+/g, '')));
    else if (path !== undefined) tokens.push(tok('path', path));
    else if (word !== undefined) tokens.push(tok(/^\d+$/.test(word) ? 'number' : TIME.test(word) ? 'time' : 'word', word));
    else if (sep !== undefined) tokens.push(tok('sep', sep));
    else if (other === '"' || other === "'") {
      // A quote that opens nothing or closes nothing: the rest cannot be read reliably.
      if (other === '"') throw new QuestionError('there is a " without its closing quote');
      tokens.push(tok('other', other));
    } else tokens.push(tok('other', whole));
  }
  return tokens;
}

function tok(kind: TokenKind, text: string): Token {
  return { kind, text, lower: text.toLowerCase() };
}

export { ISO_DATE };
