// Any image a user hands gpu-cnn, read and decoded to 8-bit RGBA: a file path (Node) or URL
// (browser), encoded bytes (Uint8Array / Buffer, ArrayBuffer, Blob, File), decoded pixels
// ({ width, height, channels, data }, or a browser ImageData), or something a browser can draw
// (HTMLImageElement, ImageBitmap, HTMLCanvasElement, OffscreenCanvas, video).
// The Node entry registers the datasets' file reading and PNG/JPEG decoders (setImageDecoding),
// so in Node every input decodes to exactly the pixels training saw; a page fetches URLs and
// decodes with the browser's own decoder. This module imports nothing Node-only.
import { sniffFormat, type DecodedImage, type RawImage } from "./pixels.js";

/** Something with pixels a browser can draw (HTMLImageElement, ImageBitmap, canvases, video). */
type Drawable = { width: number; height: number } & object;

export type ImageInput =
  | string
  | Uint8Array
  | ArrayBuffer
  | RawImage
  /** ImageData: RGBA bytes, no `channels` field. */
  | { width: number; height: number; data: Uint8ClampedArray | Uint8Array }
  | Blob
  | Drawable;

/** How images are read and decoded where there is a file system: what the datasets use. */
export interface ImageDecoding {
  readFile(path: string): Promise<Uint8Array>;
  decode(bytes: Uint8Array, name: string): Promise<DecodedImage>;
}

let decoding: ImageDecoding | null = null;

/** The Node entry registers the datasets' reading and decoding here (see classify.node.ts). */
export function setImageDecoding(d: ImageDecoding): void {
  decoding = d;
}

/** An error's message without its closing full stop, to go inside a sentence. */
const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error)).replace(/\.+$/, "");

const READABLE = "pass a path or URL, PNG/JPEG bytes, a Blob or File, ImageData, { width, height, channels, data }, an <img>, an ImageBitmap or a canvas";

function isBlob(v: unknown): v is Blob {
  return typeof Blob !== "undefined" && v instanceof Blob;
}

/** A data: URL cut short, so an error message stays one readable line. */
const shortUrl = (url: string): string => (url.startsWith("data:") && url.length > 48 ? `${url.slice(0, 40)}...` : url);

/** How errors name an input: its path, URL or file name, else its position (and what it is). */
export function describeInput(source: ImageInput, index = 0): string {
  if (typeof source === "string") return shortUrl(source);
  if (isBlob(source)) {
    const fileName = (source as { name?: unknown }).name;
    if (typeof fileName === "string" && fileName) return fileName;
    return `image ${index} (a Blob${source.type ? ` of type ${source.type}` : ""}, ${source.size} bytes)`;
  }
  const element = source as { currentSrc?: unknown; src?: unknown };
  const src = element.currentSrc || element.src;
  if (typeof src === "string" && src) return `image ${index} (${shortUrl(src)})`;
  return `image ${index}`;
}

/** Pixels as 8-bit RGBA, so every input goes through the same colour conversion as files do. */
function pixelsToRgba(image: RawImage, name: string): DecodedImage {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`gpu-cnn: ${name}: width and height must be positive integers, got ${width}x${height}`);
  }
  if (![1, 2, 3, 4].includes(channels)) throw new Error(`gpu-cnn: ${name}: images have 1 to 4 channels, got ${channels}`);
  if (data.length !== width * height * channels) {
    throw new Error(`gpu-cnn: ${name}: ${width}x${height}x${channels} needs ${width * height * channels} values, got ${data.length}`);
  }
  const rgba = new Uint8Array(width * height * 4);
  const clamp = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));
  for (let p = 0; p < width * height; p++) {
    const at = p * channels;
    if (channels <= 2) {
      const v = clamp(data[at]);
      rgba.set([v, v, v, channels === 2 ? clamp(data[at + 1]) : 255], p * 4);
    } else {
      rgba.set([clamp(data[at]), clamp(data[at + 1]), clamp(data[at + 2]), channels === 4 ? clamp(data[at + 3]) : 255], p * 4);
    }
  }
  // Pixels have no file format; Node's decoders treat lossless pixels as PNG (libpng's grayscale rule).
  return { width, height, channels: 4, data: rgba, format: "png", sourceChannels: channels as 1 | 2 | 3 | 4, bitDepth: 8, palette: false, progressive: false };
}

/** A 2D context of the given size to read pixels through: OffscreenCanvas, else a <canvas>. */
function canvas2d(width: number, height: number, name: string): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D {
  const settings: CanvasRenderingContext2DSettings = { willReadFrequently: true };
  let context: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null = null;
  if (typeof OffscreenCanvas === "function") context = new OffscreenCanvas(width, height).getContext("2d", settings);
  else if (typeof document !== "undefined") {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    context = canvas.getContext("2d", settings);
  }
  if (!context) throw new Error(`gpu-cnn: ${name}: no 2D canvas here to read the image's pixels`);
  return context;
}

/** A drawable browser image's RGBA pixels, through a canvas. */
async function drawPixels(source: Drawable, name: string): Promise<DecodedImage> {
  const element = source as { naturalWidth?: number; naturalHeight?: number; videoWidth?: number; videoHeight?: number; decode?: () => Promise<void> };
  let width = source.width;
  let height = source.height;
  if (typeof element.naturalWidth === "number") {
    // An <img>: wait until it has loaded (decode() resolves at once if it has), and say so if it cannot.
    if (typeof element.decode === "function") {
      try {
        await element.decode.call(source);
      } catch (error) {
        throw new Error(`gpu-cnn: cannot decode ${name}: ${reason(error)}. It did not load, or it is not an image.`);
      }
    }
    width = element.naturalWidth;
    height = element.naturalHeight ?? 0;
  } else if (typeof element.videoWidth === "number") {
    width = element.videoWidth;
    height = element.videoHeight ?? 0;
  }
  if (!width || !height) throw new Error(`gpu-cnn: ${name}: the image is empty (${width}x${height}); has it loaded?`);
  const context = canvas2d(width, height, name);
  context.drawImage(source as CanvasImageSource, 0, 0);
  const pixels = context.getImageData(0, 0, width, height);
  return pixelsToRgba({ width, height, channels: 4, data: pixels.data }, name);
}

/**
 * Encoded bytes to RGBA: the registered decoders in Node (pngjs / jpeg-js, as the datasets), the
 * browser's own decoder in a page (any format it reads), with no colour management, as in Node.
 */
async function decodeBytes(bytes: Uint8Array, name: string): Promise<DecodedImage> {
  if (decoding) return decoding.decode(bytes, name);
  if (typeof createImageBitmap !== "function") {
    throw new Error(`gpu-cnn: cannot decode ${name}: no image decoder here; in Node import gpu-cnn's Node entry, in a browser createImageBitmap is needed`);
  }
  if (bytes.length === 0) throw new Error(`gpu-cnn: cannot decode ${name}: it is empty`);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { premultiplyAlpha: "none", colorSpaceConversion: "none" });
  } catch (error) {
    throw new Error(`gpu-cnn: cannot decode ${name}: ${reason(error)}. It is corrupt, truncated or not an image.`);
  }
  try {
    const image = await drawPixels(bitmap, name);
    // JPEG's grayscale rule differs from PNG's (see toColorMode): keep the file's format.
    return sniffFormat(bytes) === "jpeg" ? { ...image, format: "jpeg" } : image;
  } finally {
    bitmap.close();
  }
}

async function readSource(source: string, name: string): Promise<Uint8Array> {
  try {
    if (decoding) return await decoding.readFile(source);
    const response = await fetch(source);
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
    return new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new Error(`gpu-cnn: cannot read ${name}: ${reason(error)}`);
  }
}

/** Any accepted input, decoded to RGBA; `name` (describeInput) is what errors call it. */
export async function decodeInput(source: ImageInput, name: string): Promise<DecodedImage> {
  if (typeof source === "string") return decodeBytes(await readSource(source, name), name);
  if (source instanceof Uint8Array) return decodeBytes(source, name);
  if (source instanceof ArrayBuffer) return decodeBytes(new Uint8Array(source), name);
  if (isBlob(source)) return decodeBytes(new Uint8Array(await source.arrayBuffer()), name);
  if (typeof source === "object" && source !== null && "data" in source && "width" in source && "height" in source) {
    const s = source as { width: number; height: number; channels?: number; data: RawImage["data"] };
    return pixelsToRgba({ width: s.width, height: s.height, channels: s.channels ?? 4, data: s.data }, name);
  }
  const drawable = typeof OffscreenCanvas === "function" || typeof document !== "undefined";
  if (drawable && typeof source === "object" && source !== null && "width" in source && "height" in source) return drawPixels(source, name);
  throw new Error(`gpu-cnn: ${name}: cannot read an image from ${source === null ? "null" : typeof source}; ${READABLE}`);
}
