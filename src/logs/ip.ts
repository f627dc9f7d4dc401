import { isIP } from 'node:net';

/**
 * IP addresses as 16 bytes (IPv4 mapped into IPv6 as `::ffff:a.b.c.d`), the way Elasticsearch's
 * `ip` field stores them: byte order is address order, so a CIDR block is one byte range.
 */
export function ipToBytes(ip: string): Buffer | undefined {
  const kind = isIP(ip);
  if (kind === 4) {
    const out = Buffer.alloc(16);
    out[10] = 0xff;
    out[11] = 0xff;
    ip.split('.').forEach((part, i) => (out[12 + i] = Number(part)));
    return out;
  }
  if (kind !== 6) return undefined;
  let text = ip.split('%')[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (v4) {
    const b = ipToBytes(v4[1]!)!;
    tail = [(b[12]! << 8) | b[13]!, (b[14]! << 8) | b[15]!];
    text = text.slice(0, -v4[1]!.length);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').filter((x) => x !== '').map((h) => parseInt(h, 16)) : []);
  const left = parse(head), right = parse(rest);
  const words =
    rest === undefined ? [...left, ...tail] : [...left, ...new Array(8 - left.length - right.length - tail.length).fill(0), ...right, ...tail];
  if (words.length !== 8) return undefined;
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

export interface CidrRange {
  /** First and last address of the block, 16 bytes each. */
  low: Buffer;
  high: Buffer;
}

/** `198.51.100.0/24` or `2001:db8::/32` (a bare address is a block of one). */
export function parseCidr(text: string): CidrRange | undefined {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return undefined;
  const addr = ipToBytes(m[1]!);
  if (!addr) return undefined;
  const v4 = isIP(m[1]!) === 4;
  const max = v4 ? 32 : 128;
  const bits = m[2] === undefined ? max : Number(m[2]);
  if (bits > max) return undefined;
  const prefix = v4 ? bits + 96 : bits;
  const low = Buffer.from(addr), high = Buffer.from(addr);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    low[i] = addr[i]! & mask;
    high[i] = (addr[i]! & mask) | (~mask & 0xff);
  }
  return { low, high };
}

/** The canonical text of an address (RFC 5952; IPv4-mapped addresses as IPv4), as Elasticsearch prints `ip` values. */
const PLAIN_V4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function canonicalIp(ip: string): string | undefined {
  if (PLAIN_V4.test(ip)) return ip;
  const b = ipToBytes(ip);
  if (!b) return undefined;
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(b.readUInt16BE(i));
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
