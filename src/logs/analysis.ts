/**
 * Word tokens of a text, as Elasticsearch's `standard` analyzer makes them (Unicode UAX #29 word
 * boundaries, then lower case). The embedded store matches phrases on these tokens so that a
 * phrase finds exactly the events it finds in Elasticsearch (`match_phrase` on `message`); a test
 * compares this function with a real node's `_analyze` over the sample data and hostile input.
 */

const enum C {
  Other,
  ALetter,
  Hebrew,
  Numeric,
  Katakana,
  ExtendNumLet,
  MidLetter,
  MidNumLet,
  MidNum,
  SingleQuote,
  DoubleQuote,
  Extend,
  Ideographic,
  Hiragana,
  SouthEastAsian,
  Emoji,
}

/** Lucene splits longer tokens at this length. */
const MAX_TOKEN_LENGTH = 255;

const RE_HEBREW = /\p{Script=Hebrew}/u;
const RE_KATAKANA = /[\p{Script=Katakana}\u3031-\u3035\u309B\u309C\u30A0\u30FC\uFF70]/u;
const RE_HIRAGANA = /\p{Script=Hiragana}/u;
const RE_IDEOGRAPHIC = /[\p{Script=Han}\u3005\u3007\u3021-\u3029\u3038-\u303B]/u;
const RE_SEA = /[\p{Script=Thai}\p{Script=Lao}\p{Script=Myanmar}\p{Script=Khmer}\p{Script=Tai_Le}\p{Script=New_Tai_Lue}\p{Script=Tai_Tham}\p{Script=Tai_Viet}]/u;
const RE_EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;
const RE_ALETTER = /[\p{Alphabetic}]/u;
// Format characters extend the word before them, except the zero-width space (UAX #29 excludes it).
const RE_EXTEND = /(?!\u200B)[\p{M}\u200D\u200C\p{Cf}\p{Emoji_Modifier}]/u;
const RE_NUMERIC = /\p{Nd}/u;
const RE_CONNECTOR = /\p{Pc}/u;
const MID_LETTER = new Set([0x3a, 0xb7, 0x387, 0x55f, 0x5f4, 0x2027, 0xfe13, 0xfe55, 0xff1a]);
const MID_NUM_LET = new Set([0x2e, 0x2018, 0x2019, 0x2024, 0xfe52, 0xff07, 0xff0e]);
const MID_NUM = new Set([0x2c, 0x3b, 0x37e, 0x589, 0x60c, 0x60d, 0x66c, 0x7f8, 0x2044, 0xfe10, 0xfe14, 0xfe50, 0xfe54, 0xff0c, 0xff1b]);

function classify(cp: number): C {
  if (cp < 0x80) {
    if ((cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a)) return C.ALetter;
    if (cp >= 0x30 && cp <= 0x39) return C.Numeric;
    if (cp === 0x5f) return C.ExtendNumLet;
    if (cp === 0x3a) return C.MidLetter;
    if (cp === 0x2e) return C.MidNumLet;
    if (cp === 0x2c || cp === 0x3b) return C.MidNum;
    if (cp === 0x27) return C.SingleQuote;
    if (cp === 0x22) return C.DoubleQuote;
    return C.Other;
  }
  if (MID_LETTER.has(cp)) return C.MidLetter;
  if (MID_NUM_LET.has(cp)) return C.MidNumLet;
  if (MID_NUM.has(cp)) return C.MidNum;
  const ch = String.fromCodePoint(cp);
  if (RE_EXTEND.test(ch)) return C.Extend;
  if (RE_EMOJI.test(ch) && !RE_ALETTER.test(ch) && !(cp >= 0x30 && cp <= 0x39)) return C.Emoji;
  if (RE_IDEOGRAPHIC.test(ch)) return C.Ideographic;
  if (RE_HIRAGANA.test(ch)) return C.Hiragana;
  if (RE_KATAKANA.test(ch)) return C.Katakana;
  if (RE_SEA.test(ch)) return C.SouthEastAsian;
  if (RE_HEBREW.test(ch) && RE_ALETTER.test(ch)) return C.Hebrew;
  if (RE_NUMERIC.test(ch)) return C.Numeric;
  if (RE_CONNECTOR.test(ch)) return C.ExtendNumLet;
  if (RE_ALETTER.test(ch)) return C.ALetter;
  return C.Other;
}

const isAH = (c: C) => c === C.ALetter || c === C.Hebrew;
const isWordStart = (c: C) =>
  c === C.ALetter || c === C.Hebrew || c === C.Numeric || c === C.Katakana || c === C.ExtendNumLet;

/** Lower case one code point at a time, as Lucene's LowerCaseFilter (Java `Character.toLowerCase`) does. */
function lower(token: string): string {
  if (!/[^\x00-\x7f]/.test(token)) return token.toLowerCase();
  let out = '';
  for (const ch of token) {
    if (ch === '\u0130') out += 'i';
    else {
      const l = ch.toLowerCase();
      out += [...l].length === 1 ? l : ch;
    }
  }
  return out;
}

function pushToken(out: string[], token: string): void {
  if (token.length <= MAX_TOKEN_LENGTH) {
    out.push(lower(token));
    return;
  }
  for (let i = 0; i < token.length; i += MAX_TOKEN_LENGTH) out.push(lower(token.slice(i, i + MAX_TOKEN_LENGTH)));
}

function extendsPrevious(cls: C[]): boolean {
  let i = cls.length - 1;
  while (i >= 0 && cls[i] === C.Extend) i--;
  if (i < 0) return false;
  const c = cls[i]!;
  return c !== C.Other && c !== C.ExtendNumLet && c !== C.MidLetter && c !== C.MidNumLet && c !== C.MidNum && c !== C.SingleQuote && c !== C.DoubleQuote;
}

export function tokenize(text: string): string[] {
  const out: string[] = [];
  const cps: number[] = [];
  const cls: C[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    let c = classify(cp);
    // A skin-tone modifier extends the word or emoji before it; after anything else it is an emoji itself.
    if (cp >= 0x1f3fb && cp <= 0x1f3ff) c = extendsPrevious(cls) ? C.Extend : C.Emoji;
    // WB4: extend and format characters stick to what precedes them.
    if (c === C.Extend && cls.length && cls[cls.length - 1] !== C.Other) {
      cps.push(cp);
      cls.push(C.Extend);
      continue;
    }
    cps.push(cp);
    cls.push(c);
  }
  const n = cls.length;
  const base = (i: number): C => {
    while (i >= 0 && cls[i] === C.Extend) i--;
    return i >= 0 ? cls[i]! : C.Other;
  };
  const next = (i: number): number => {
    let j = i + 1;
    while (j < n && cls[j] === C.Extend) j++;
    return j;
  };
  let i = 0;
  while (i < n) {
    const c = cls[i]!;
    if (c === C.Ideographic || c === C.Hiragana) {
      let j = next(i);
      out.push(lower(String.fromCodePoint(...cps.slice(i, j))));
      i = j;
      continue;
    }
    if (c === C.Emoji) {
      let j = next(i);
      // ZWJ sequences and regional indicator pairs stay one token.
      while (j < n && cls[j] === C.Emoji && cps[j - 1] === 0x200d) j = next(j);
      if (cps[i]! >= 0x1f1e6 && cps[i]! <= 0x1f1ff && j < n && cps[j]! >= 0x1f1e6 && cps[j]! <= 0x1f1ff) j = next(j);
      out.push(String.fromCodePoint(...cps.slice(i, j)));
      i = j;
      continue;
    }
    if (c === C.SouthEastAsian) {
      let j = next(i);
      while (j < n && cls[j] === C.SouthEastAsian) j = next(j);
      out.push(lower(String.fromCodePoint(...cps.slice(i, j))));
      i = j;
      continue;
    }
    if (!isWordStart(c)) {
      i++;
      continue;
    }
    // Extend the word while UAX #29 finds no boundary.
    let end = next(i);
    let hasWordChar = c !== C.ExtendNumLet;
    while (end < n) {
      const prev = base(end - 1);
      const cur = cls[end]!;
      if (isAH(prev) && isAH(cur)) { end = next(end); hasWordChar = true; continue; }
      if ((prev === C.Numeric && (cur === C.Numeric || isAH(cur))) || (isAH(prev) && cur === C.Numeric)) {
        end = next(end); hasWordChar = true; continue;
      }
      if (prev === C.Katakana && cur === C.Katakana) { end = next(end); continue; }
      if ((isAH(prev) || prev === C.Numeric || prev === C.Katakana || prev === C.ExtendNumLet) && cur === C.ExtendNumLet) {
        end = next(end); continue;
      }
      if (prev === C.ExtendNumLet && (isAH(cur) || cur === C.Numeric || cur === C.Katakana)) {
        end = next(end); hasWordChar = true; continue;
      }
      const after = next(end);
      const cur2 = after < n ? cls[after]! : C.Other;
      if (isAH(prev) && (cur === C.MidLetter || cur === C.MidNumLet || cur === C.SingleQuote) && isAH(cur2)) {
        end = next(after); continue;
      }
      if (prev === C.Hebrew && cur === C.SingleQuote) { end = next(end); continue; }
      if (prev === C.Hebrew && cur === C.DoubleQuote && cur2 === C.Hebrew) { end = next(after); continue; }
      if (prev === C.Numeric && (cur === C.MidNum || cur === C.MidNumLet || cur === C.SingleQuote) && cur2 === C.Numeric) {
        end = next(after); continue;
      }
      break;
    }
    if (hasWordChar || c === C.Katakana) pushToken(out, String.fromCodePoint(...cps.slice(i, end)));
    i = end;
  }
  return out;
}

/**
 * The tokens of a text joined as ` a b c ` (leading and trailing space): a phrase matches when its
 * own `terms()` occurs inside, which is how the embedded store runs `match_phrase`.
 */
export function terms(text: string): string {
  const tokens = tokenize(text);
  return tokens.length ? ` ${tokens.join(' ')} ` : '';
}
