// Pixels as gpu-cnn passes them around, and the colour-mode conversion Keras applies when it
// loads images. Browser-safe (no decoder here): browsers decode images themselves, then convert
// colours with the same toColorMode as Node, so both prepare the same pixels.
export type ImageFormat = "png" | "jpeg";
export type ColorMode = "rgb" | "grayscale" | "rgba";

/** Pixels, row-major, channels interleaved (HWC). */
export interface RawImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array | Uint8ClampedArray | Float32Array;
}

/** A decoded file: always RGBA8 in `data`; the rest describes the file. */
export interface DecodedImage extends RawImage {
  channels: 4;
  data: Uint8Array;
  format: ImageFormat;
  /** Channels stored in the file: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (palette: 3, or 4 with transparency). */
  sourceChannels: 1 | 2 | 3 | 4;
  /** Bits per sample in the file (PNG 1, 2, 4, 8 or 16; JPEG 8). */
  bitDepth: number;
  palette: boolean;
  /** Progressive JPEG or Adam7-interlaced PNG. */
  progressive: boolean;
}

export const COLOR_MODE_CHANNELS: Record<ColorMode, number> = { grayscale: 1, rgb: 3, rgba: 4 };

/** The format from the first bytes; names the common ones we do not read, for the error. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | "bmp" | "gif" | "webp" | "tiff" | "unknown" {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "png";
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return "bmp";
  if (b.length >= 4 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return "gif";
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[8] === 0x57 && b[9] === 0x45) return "webp";
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49) || (b[0] === 0x4d && b[1] === 0x4d)) && (b[2] === 42 || b[3] === 42)) return "tiff";
  return "unknown";
}

/**
 * Keeps the channels of a colour mode, on 8-bit values, as tf.io.decode_image(channels=...) does:
 * "rgb" drops alpha (no compositing), "rgba" adds an opaque one, and "grayscale" takes luma:
 * for PNG libpng's truncating 0.299/0.587/0.114 in 1/32768ths, for JPEG the rounded Y of YCbCr.
 */
export function toColorMode(image: DecodedImage, colorMode: ColorMode): RawImage {
  const channels = COLOR_MODE_CHANNELS[colorMode];
  if (channels === undefined) throw new Error(`gpu-cnn: colorMode must be "rgb", "grayscale" or "rgba", got ${JSON.stringify(colorMode)}`);
  if (channels === 4) return image;
  const src = image.data;
  const pixels = image.width * image.height;
  const out = new Uint8Array(pixels * channels);
  if (channels === 3) {
    for (let p = 0; p < pixels; p++) {
      out[p * 3] = src[p * 4];
      out[p * 3 + 1] = src[p * 4 + 1];
      out[p * 3 + 2] = src[p * 4 + 2];
    }
  } else if (image.format === "png") {
    for (let p = 0; p < pixels; p++) out[p] = (9797 * src[p * 4] + 19234 * src[p * 4 + 1] + 3737 * src[p * 4 + 2]) >> 15;
  } else {
    for (let p = 0; p < pixels; p++) out[p] = Math.round(0.299 * src[p * 4] + 0.587 * src[p * 4 + 1] + 0.114 * src[p * 4 + 2]);
  }
  return { width: image.width, height: image.height, channels, data: out };
}
