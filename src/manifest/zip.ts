import { crc32, deflateRawSync } from 'node:zlib';

/**
 * A minimal ZIP writer: enough for a Teams app package (a handful of small files at the root),
 * so the product needs no archive dependency. No ZIP64, no encryption, no directories: a Teams
 * package needs none of them, and refusing is better than writing an archive Teams cannot read.
 */

/** One file in the archive. */
export interface ZipEntry {
  /** Path inside the archive, `/`-separated, e.g. `manifest.json`. */
  name: string;
  data: Buffer;
}

/** Every entry gets this time stamp (1980-01-01 00:00, the earliest DOS date), so the same inputs give the same bytes. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
/** General purpose flag bit 11: the name is UTF-8. */
const UTF8_NAMES = 1 << 11;
const STORED = 0;
const DEFLATED = 8;
/** ZIP 2.0: deflate, the version every reader supports. */
const VERSION = 20;
const MAX_32 = 0xffffffff;

/**
 * Builds a ZIP archive in memory. Each entry is deflated, or stored when deflating does not make
 * it smaller (PNGs are already compressed).
 *
 * @throws Error for an empty, absolute or duplicate name, or sizes that would need ZIP64.
 */
export function createZip(entries: readonly ZipEntry[]): Buffer {
  if (entries.length > 0xffff) throw new Error(`zip: ${entries.length} entries need ZIP64, which this writer does not support`);
  const seen = new Set<string>();
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    checkName(entry.name, seen);
    const name = Buffer.from(entry.name, 'utf8');
    const deflated = deflateRawSync(entry.data, { level: 9 });
    const method = deflated.length < entry.data.length ? DEFLATED : STORED;
    const body = method === DEFLATED ? deflated : entry.data;
    const crc = crc32(entry.data);
    if (entry.data.length > MAX_32 || offset + 30 + name.length + body.length > MAX_32) {
      throw new Error(`zip: ${entry.name} would need ZIP64, which this writer does not support`);
    }

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION, 4);
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(VERSION, 4);
    central.writeUInt16LE(VERSION, 6);
    central.writeUInt16LE(UTF8_NAMES, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    // extra length, comment length, disk number, internal and external attributes stay 0
    central.writeUInt32LE(offset, 42);

    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }

  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function checkName(name: string, seen: Set<string>): void {
  if (name === '' || name.startsWith('/') || name.includes('\\') || name.split('/').includes('..')) {
    throw new Error(`zip: '${name}' is not a relative path inside the archive`);
  }
  if (seen.has(name)) throw new Error(`zip: '${name}' is in the archive twice`);
  if (Buffer.byteLength(name, 'utf8') > 0xffff) throw new Error(`zip: '${name.slice(0, 40)}…' is too long a name`);
  seen.add(name);
}
