// PNG and JPEG bytes to pixels, as tf.io.decode_image reads them. Every image decodes to RGBA,
// 8 bits per channel; 16-bit PNGs keep their high byte, as TensorFlow's decoder does for uint8
// output. The pixel types and the colour-mode conversion live in pixels.ts (browser-safe) and
// are re-exported here.
// pngjs and jpeg-js are imported on first use: pngjs needs Node's zlib, and the browser entry
// must load without it (browsers decode images themselves).
import type { PNGWithMetadata } from "pngjs";
import { sniffFormat, type DecodedImage } from "./pixels.js";

export { COLOR_MODE_CHANNELS, sniffFormat, toColorMode, type ColorMode, type DecodedImage, type ImageFormat, type RawImage } from "./pixels.js";

type PngModule = typeof import("pngjs");
type JpegModule = typeof import("jpeg-js");
let pngModule: Promise<PngModule> | null = null;
let jpegModule: Promise<JpegModule> | null = null;
// Both are CommonJS: under Node's ESM loader their exports sit on `default`.
const loadPng = (): Promise<PngModule> =>
  (pngModule ??= import("pngjs").then((m) => ((m as { default?: PngModule }).default ?? m) as PngModule));
const loadJpeg = (): Promise<JpegModule> =>
  (jpegModule ??= import("jpeg-js").then((m) => ((m as { default?: JpegModule }).default ?? m) as JpegModule));

/**
 * Decodes PNG (gray, gray+alpha, RGB, RGBA, palette; 1 to 16 bits; interlaced) or JPEG (baseline
 * and progressive, grayscale and colour). The format comes from the bytes, not the file name.
 * `name` (a path) is put in error messages. Throws on corrupt or truncated data.
 */
export async function decodeImage(bytes: Uint8Array, name = "image"): Promise<DecodedImage> {
  const format = sniffFormat(bytes);
  if (format !== "png" && format !== "jpeg") {
    if (bytes.length === 0) throw new Error(`gpu-cnn: cannot decode ${name}: the file is empty. Fix: replace or remove it.`);
    const what = format === "unknown" ? "not a PNG or JPEG image (unrecognised contents)" : `a ${format.toUpperCase()} image`;
    throw new Error(`gpu-cnn: cannot decode ${name}: it is ${what}; gpu-cnn reads PNG and JPEG only. Fix: convert it to PNG, or remove it.`);
  }
  try {
    return format === "png" ? decodePng(await loadPng(), bytes) : decodeJpeg(await loadJpeg(), bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `gpu-cnn: cannot decode ${name} as ${format.toUpperCase()}: ${reason}. The file is corrupt or truncated. ` +
        `Fix: re-save or remove it (datasets can skip such files with skipBadImages: true).`,
    );
  }
}

function decodePng(png: PngModule, bytes: Uint8Array): DecodedImage {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // skipRescale: we do the depth conversion ourselves, to match TensorFlow (pngjs rounds 16->8).
  const image: PNGWithMetadata = png.PNG.sync.read(buffer, { skipRescale: true });
  const { width, height, depth } = image;
  const colorType: number = image.colorType; // @types/pngjs omits 3 (palette)
  const n = width * height * 4;
  let data: Uint8Array;
  if (depth === 16) {
    const wide = image.data as unknown as Uint16Array;
    data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = wide[i] >> 8;
  } else if (depth < 8 && colorType !== 3) {
    // Gray at 1, 2 or 4 bits: scale to 0..255 exactly (1-bit 1 -> 255, 4-bit 15 -> 255), as libpng does.
    const scale = 255 / ((1 << depth) - 1);
    data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = image.data[i] * scale;
  } else {
    data = new Uint8Array(image.data.buffer, image.data.byteOffset, n);
  }
  const hasTransparency = image.alpha; // palette with a tRNS chunk
  const sourceChannels = colorType === 0 ? 1 : colorType === 4 ? 2 : colorType === 2 ? 3 : colorType === 6 ? 4 : hasTransparency ? 4 : 3;
  return {
    width,
    height,
    channels: 4,
    data,
    format: "png",
    sourceChannels,
    bitDepth: depth,
    palette: colorType === 3,
    progressive: image.interlace,
  };
}

function decodeJpeg(jpeg: JpegModule, bytes: Uint8Array): DecodedImage {
  const info = jpegFrame(bytes);
  // tolerantDecoding off: a truncated file is an error, as in TensorFlow (try_recover_truncated=False).
  const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false });
  return {
    width: image.width,
    height: image.height,
    channels: 4,
    data: image.data,
    format: "jpeg",
    sourceChannels: info.components === 1 ? 1 : 3,
    bitDepth: info.precision,
    palette: false,
    progressive: info.progressive,
  };
}

/** Reads the frame header (SOFn) for the component count and whether the file is progressive. */
function jpegFrame(bytes: Uint8Array): { components: number; precision: number; progressive: boolean } {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new Error(`expected a marker at byte ${at}`);
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (at + 10 > bytes.length) break;
      return { precision: bytes[at + 4], components: bytes[at + 9], progressive: (marker & 0x3) === 2 };
    }
    if (marker === 0xda || marker === 0xd9) break; // scan data or end before any frame header
    at += 2 + length;
  }
  throw new Error("no frame header (SOF marker) found");
}
