/**
 * A small PNG reader (8-bit greyscale/RGB/RGBA, non-interlaced: what resvg writes), to check
 * rendered plots without a browser: size, CRCs, and pixels.
 */
import { crc32, inflateSync } from 'node:zlib';
import * as E from 'fp-ts/lib/Either.js';
import { messageOf } from './errors.ts';

/** A decoded image: RGBA, 8 bits per channel, row-major. */
export interface DecodedPng {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

const signature = [137, 80, 78, 71, 13, 10, 26, 10];
const channelsOf: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };

const paeth = (a: number, b: number, c: number): number => {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
};

/** Undo the per-row filters in place; `raw` is the inflated IDAT stream. */
const unfilter = (raw: Uint8Array, width: number, height: number, bpp: number): E.Either<string, Uint8Array> => {
  const stride = width * bpp;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const cur = raw[src + x] ?? 0;
      const a = x >= bpp ? out[row + x - bpp] ?? 0 : 0;
      const b = y > 0 ? out[row - stride + x] ?? 0 : 0;
      const c = x >= bpp && y > 0 ? out[row - stride + x - bpp] ?? 0 : 0;
      switch (filter) {
        case 0: out[row + x] = cur; break;
        case 1: out[row + x] = (cur + a) & 255; break;
        case 2: out[row + x] = (cur + b) & 255; break;
        case 3: out[row + x] = (cur + ((a + b) >> 1)) & 255; break;
        case 4: out[row + x] = (cur + paeth(a, b, c)) & 255; break;
        default: return E.left(`row ${y} has unknown filter ${String(filter)}`);
      }
    }
  }
  return E.right(out);
};

/**
 * Decode a PNG (checking signature, chunk CRCs and data length) into RGBA pixels.
 * @example
 * const img = decodePng(readFileSync('out/plot-smoke/phase.png'));
 * if (E.isRight(img)) console.log(img.right.width, img.right.height);
 */
export const decodePng = (bytes: Uint8Array): E.Either<string, DecodedPng> => {
  if (!signature.every((b, i) => bytes[i] === b)) return E.left('not a PNG (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let header: { width: number; height: number; depth: number; color: number; interlace: number } | undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (offset + 12 <= bytes.length && !ended) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (body.length !== length || offset + 12 + length > bytes.length) return E.left(`chunk ${type} is truncated`);
    if (crc32(bytes.subarray(offset + 4, offset + 8 + length)) !== view.getUint32(offset + 8 + length)) {
      return E.left(`chunk ${type} has a bad CRC`);
    }
    if (type === 'IHDR') {
      const h = new DataView(body.buffer, body.byteOffset, body.byteLength);
      header = { width: h.getUint32(0), height: h.getUint32(4), depth: body[8] ?? 0, color: body[9] ?? 0, interlace: body[12] ?? 0 };
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') ended = true;
    offset += 12 + length;
  }
  if (header === undefined) return E.left('no IHDR chunk');
  if (!ended) return E.left('no IEND chunk');
  const channels = channelsOf[header.color];
  if (header.depth !== 8 || channels === undefined || header.interlace !== 0) {
    return E.left(`unsupported PNG: depth ${header.depth}, colour type ${header.color}, interlace ${header.interlace}`);
  }
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (e) {
    return E.left(`IDAT does not inflate: ${messageOf(e)}`);
  }
  const { width, height } = header;
  if (raw.length !== (width * channels + 1) * height) {
    return E.left(`IDAT holds ${raw.length} bytes, expected ${(width * channels + 1) * height}`);
  }
  const pixels = unfilter(raw, width, height, channels);
  if (E.isLeft(pixels)) return pixels;
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const s = p * channels;
    const px = pixels.right;
    const grey = channels <= 2;
    rgba[p * 4] = px[s] ?? 0;
    rgba[p * 4 + 1] = (grey ? px[s] : px[s + 1]) ?? 0;
    rgba[p * 4 + 2] = (grey ? px[s] : px[s + 2]) ?? 0;
    rgba[p * 4 + 3] = channels === 4 ? px[s + 3] ?? 255 : channels === 2 ? px[s + 1] ?? 255 : 255;
  }
  return E.right({ width, height, rgba });
};

/** Pixel statistics of a decoded image: share not white and share clearly coloured (not grey). */
export interface InkStats {
  readonly nonWhite: number;
  readonly colored: number;
}

/**
 * Fractions of pixels that are not (near) white, and that are saturated (max − min channel > 40).
 * @example inkStats(img).nonWhite > 0.01 // something was drawn
 */
export const inkStats = (img: DecodedPng): InkStats => {
  let nonWhite = 0;
  let colored = 0;
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    const r = img.rgba[p * 4] ?? 0, g = img.rgba[p * 4 + 1] ?? 0, b = img.rgba[p * 4 + 2] ?? 0;
    if (r < 245 || g < 245 || b < 245) nonWhite++;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 40) colored++;
  }
  return { nonWhite: nonWhite / Math.max(n, 1), colored: colored / Math.max(n, 1) };
};
