import { open } from 'node:fs/promises';

export interface Line {
  /** The line without its terminator (`\n` or `\r\n`); undefined when the bytes are not UTF-8 text. */
  text: string | undefined;
  /** 1-based line number in the file. */
  lineNo: number;
  /** Byte offset just after this line's `\n` (or the end of the file for a last line without one). */
  endOffset: number;
}

export interface ReadFrom {
  /** Byte offset to start at; must be the start of a line. */
  offset: number;
  /** Line number of the line at `offset`. */
  lineNo: number;
}

const CHUNK = 1 << 20;
const strict = new TextDecoder('utf-8', { fatal: true });

function decode(buf: Buffer, start: number, end: number): string | undefined {
  if (end > start && buf[end - 1] === 0x0d) end--;
  const text = buf.toString('utf8', start, end);
  if (!text.includes('\uFFFD')) return text;
  // U+FFFD may be real text or the mark of bytes that are not UTF-8: ask a strict decoder.
  try {
    return strict.decode(buf.subarray(start, end));
  } catch {
    return undefined;
  }
}

/**
 * Reads the lines of a file from a position. With `partial: false` (following a growing file) a
 * last line without `\n` is left for the next read, as the writer may be in the middle of it.
 */
export async function* readLines(path: string, from: ReadFrom = { offset: 0, lineNo: 1 }, partial = true): AsyncGenerator<Line> {
  const handle = await open(path, 'r');
  try {
    let offset = from.offset;
    let lineNo = from.lineNo;
    let carry: Buffer = Buffer.alloc(0) as Buffer;
    let first = offset === 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await handle.read(chunk, 0, CHUNK, offset + carry.length);
      if (bytesRead === 0) break;
      let buf: Buffer = carry.length ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      if (first) {
        first = false;
        if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3; // UTF-8 byte order mark
      }
      for (;;) {
        const nl = buf.indexOf(0x0a, start);
        if (nl < 0) break;
        yield { text: decode(buf, start, nl), lineNo, endOffset: offset + nl + 1 };
        lineNo++;
        start = nl + 1;
      }
      offset += start;
      carry = Buffer.from(buf.subarray(start));
      buf = carry;
    }
    if (partial && carry.length) yield { text: decode(carry, 0, carry.length), lineNo, endOffset: offset + carry.length };
  } finally {
    await handle.close();
  }
}
