/**
 * Draws the Teams app icons, a speech bubble with a check mark ("your problem, answered"), and
 * writes them as PNG into manifest/ (or the directory given):
 *
 *   npx ts-node scripts/make-icons.ts [--out dir]
 *
 * - color.png, 192×192: a white bubble and a green check on the accent colour, edge to edge (Teams
 *   rounds the corners itself).
 * - outline.png, 32×32: the bubble's outline and the check in white on transparent. Teams accepts
 *   only white and transparent pixels here, so nothing is anti-aliased: each pixel is either
 *   opaque white or fully transparent.
 *
 * The shapes are signed distance functions in a unit square (y down), sampled several times per
 * pixel; the PNG is encoded here with node:zlib so the project needs no image library.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { projectPath } from '../src/paths';

/** An 8-bit RGBA image, rows top to bottom, 4 bytes per pixel. */
export interface RgbaImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

type Point = readonly [number, number];
type Rgb = readonly [number, number, number];

/** The manifest's accentColor (#0F6CBD): Teams shows it around the colour icon, so they must match. */
const ACCENT: Rgb = [0x0f, 0x6c, 0xbd];
const WHITE: Rgb = [0xff, 0xff, 0xff];
const GREEN: Rgb = [0x10, 0x7c, 0x10];

function length(x: number, y: number): number {
  return Math.hypot(x, y);
}

/** Distance to a rounded rectangle's edge: negative inside. */
function roundedRect(p: Point, x0: number, y0: number, x1: number, y1: number, r: number): number {
  const qx = Math.abs(p[0] - (x0 + x1) / 2) - (x1 - x0) / 2 + r;
  const qy = Math.abs(p[1] - (y0 + y1) / 2) - (y1 - y0) / 2 + r;
  return length(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}

/** Distance to a triangle's edge: negative inside (Inigo Quilez's exact triangle distance). */
function triangle(p: Point, a: Point, b: Point, c: Point): number {
  const edges: [Point, Point][] = [
    [a, b],
    [b, c],
    [c, a],
  ];
  const orientation = Math.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]));
  let nearest = Infinity;
  let inside = true;
  for (const [from, to] of edges) {
    const ex = to[0] - from[0];
    const ey = to[1] - from[1];
    const wx = p[0] - from[0];
    const wy = p[1] - from[1];
    const t = Math.min(Math.max((wx * ex + wy * ey) / (ex * ex + ey * ey), 0), 1);
    nearest = Math.min(nearest, length(wx - ex * t, wy - ey * t));
    if (orientation * (ex * wy - ey * wx) < 0) inside = false;
  }
  return inside ? -nearest : nearest;
}

/** Distance to a polyline drawn with a round pen of the given width: negative inside. */
function stroke(p: Point, points: readonly Point[], width: number): number {
  let nearest = Infinity;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    const ex = b[0] - a[0];
    const ey = b[1] - a[1];
    const t = Math.min(Math.max(((p[0] - a[0]) * ex + (p[1] - a[1]) * ey) / (ex * ex + ey * ey), 0), 1);
    nearest = Math.min(nearest, length(p[0] - a[0] - ex * t, p[1] - a[1] - ey * t));
  }
  return nearest - width / 2;
}

/** Renders `paint` (unit-square point → colour and opacity) with n×n samples per pixel. */
function render(size: number, samples: number, paint: (p: Point) => readonly [Rgb, number]): RgbaImage {
  const pixels = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const [rgb, alpha] = paint([(x + (sx + 0.5) / samples) / size, (y + (sy + 0.5) / samples) / size]);
          r += rgb[0] * alpha;
          g += rgb[1] * alpha;
          b += rgb[2] * alpha;
          a += alpha;
        }
      }
      const i = (y * size + x) * 4;
      // colour is averaged over the covered samples only (premultiplied, then divided back)
      pixels[i] = a ? Math.round(r / a) : 0;
      pixels[i + 1] = a ? Math.round(g / a) : 0;
      pixels[i + 2] = a ? Math.round(b / a) : 0;
      pixels[i + 3] = Math.round((a / (samples * samples)) * 255);
    }
  }
  return { width: size, height: size, pixels };
}

/** The full-colour icon: white bubble, green check, accent background. */
export function colorIcon(size = 192): RgbaImage {
  // The symbol sits in the middle half, the safe area Teams keeps clear of its own rounding.
  const check: Point[] = [
    [0.385, 0.445],
    [0.47, 0.525],
    [0.625, 0.37],
  ];
  return render(size, 4, (p) => {
    if (stroke(p, check, 0.06) <= 0) return [GREEN, 1];
    const bubble = Math.min(
      roundedRect(p, 0.24, 0.26, 0.76, 0.62, 0.09),
      triangle(p, [0.33, 0.6], [0.47, 0.6], [0.29, 0.75]),
    );
    return [bubble <= 0 ? WHITE : ACCENT, 1];
  });
}

/** The outline icon: the bubble's outline and the check, opaque white on fully transparent. */
export function outlineIcon(size = 32): RgbaImage {
  const pen = 2 / size;
  // on pixel centres of a 32-pixel grid, at 45°, so the check's edges come out as clean steps
  const check: Point[] = [
    [10.5 / 32, 13.5 / 32],
    [14.5 / 32, 17.5 / 32],
    [22.5 / 32, 9.5 / 32],
  ];
  const image = render(size, 8, (p) => {
    const bubble = Math.min(
      roundedRect(p, 0.06, 0.1, 0.94, 0.72, 0.18),
      triangle(p, [0.2, 0.66], [0.46, 0.66], [0.14, 0.92]),
    );
    const ring = bubble <= 0 && bubble >= -pen;
    return [WHITE, ring || stroke(p, check, pen * 1.25) <= 0 ? 1 : 0];
  });
  // Teams rejects partly transparent outline pixels: a pixel at least half covered becomes opaque
  // white, the rest fully transparent (white too, so a checker that looks only at colour agrees).
  for (let i = 0; i < image.pixels.length; i += 4) {
    const opaque = image.pixels[i + 3]! >= 128;
    image.pixels.set([255, 255, 255, opaque ? 255 : 0], i);
  }
  return image;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes an RGBA image as PNG: 8-bit, colour type 6 (RGBA), no interlace, filter 0 on each row. */
export function encodePng(image: RgbaImage): Buffer {
  const { width, height, pixels } = image;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bits per channel
  ihdr[9] = 6; // RGBA
  // compression, filter method and interlace stay 0
  const stride = width * 4;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter type None: these flat images compress well without filtering
    raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Writes color.png and outline.png into `dir`; returns their paths. */
export function writeIcons(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, image] of [
    ['color.png', colorIcon()],
    ['outline.png', outlineIcon()],
  ] as const) {
    const file = join(dir, name);
    writeFileSync(file, encodePng(image));
    written.push(file);
  }
  return written;
}

if (require.main === module) {
  const at = process.argv.indexOf('--out');
  const dir = at >= 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]!) : projectPath('manifest');
  for (const file of writeIcons(dir)) process.stdout.write(`wrote ${file}\n`);
}
