// Writes the `mnist` package's 10,000 digits as image files in class folders 0..9, so the
// image-folder workflow can be shown and tested on real digits without a download. Files mix
// formats and sizes as real folders do: 28, 32 or 40 pixels (resized bilinearly), grayscale PNG
// or (about a quarter) JPEG. Deterministic from the seed: the same arguments write the same bytes.
// Run: npx tsx scripts/write-mnist-images.ts --out data/mnist-images [--limit N per digit] [--seed 1]
//      [--jpeg-fraction 0.25] (jpeg-js' encoder is slow: JPEGs take most of the ~1-2 minutes for all 10,000)
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import jpeg from "jpeg-js";
import pngjs from "pngjs";
import { resizeImage } from "../src/data/resize.js";
import { Random } from "../src/random.js";
import { runAsScript, scriptArgs } from "./script-args.js";

export const MNIST_SIZE = 28;
export const OUTPUT_SIZES = [28, 32, 40];

interface MnistDigit {
  length: number;
  /** 784 values in 0..1 (the original bytes / 255, to 3 decimals) */
  get(index: number): number[];
}

export function mnistDigits(): MnistDigit[] {
  return createRequire(import.meta.url)("mnist") as MnistDigit[];
}

/** The original 28x28 bytes of one digit sample. */
export function mnistBytes(digit: number, index: number): Uint8Array {
  return Uint8Array.from(mnistDigits()[digit].get(index), (v) => Math.round(v * 255));
}

export interface MnistImagesOptions {
  /** Images per digit (default: all, 10,000 in total). */
  limit?: number;
  seed?: number;
  /** Fraction written as JPEG (quality 90). Default 0.25. */
  jpegFraction?: number;
}

function encodeGray(pixels: Uint8Array, size: number, format: "png" | "jpeg"): Uint8Array {
  if (format === "png") {
    const png = new pngjs.PNG({ width: size, height: size });
    png.data = Buffer.from(pixels);
    // grayscale in and out: one byte per pixel
    return pngjs.PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
  }
  const rgba = new Uint8Array(size * size * 4);
  for (let i = 0; i < size * size; i++) rgba.set([pixels[i], pixels[i], pixels[i], 255], i * 4);
  return jpeg.encode({ data: rgba, width: size, height: size }, 90).data;
}

/** Writes <out>/<digit>/<digit>_<i>.png|jpg; returns the files written. */
export function writeMnistImages(out: string, options: MnistImagesOptions = {}): string[] {
  const { limit = Infinity, seed = 1, jpegFraction = 0.25 } = options;
  if (!(limit === Infinity || (Number.isInteger(limit) && limit > 0))) throw new Error(`write-mnist-images: --limit must be a positive integer, got ${limit}`);
  if (!(jpegFraction >= 0 && jpegFraction <= 1)) throw new Error(`write-mnist-images: --jpeg-fraction must be between 0 and 1, got ${jpegFraction}`);
  const digits = mnistDigits();
  const random = new Random(seed);
  const files: string[] = [];
  for (let digit = 0; digit < 10; digit++) {
    mkdirSync(join(out, String(digit)), { recursive: true });
    const count = Math.min(limit, digits[digit].length);
    for (let i = 0; i < count; i++) {
      const size = OUTPUT_SIZES[random.int(OUTPUT_SIZES.length)];
      const format = random.next() < jpegFraction ? "jpeg" : "png";
      let pixels = mnistBytes(digit, i);
      if (size !== MNIST_SIZE) {
        const resized = resizeImage({ width: MNIST_SIZE, height: MNIST_SIZE, channels: 1, data: pixels }, size, size, "bilinear");
        pixels = Uint8Array.from(resized.data, (v) => Math.max(0, Math.min(255, Math.round(v))));
      }
      const file = join(out, String(digit), `${digit}_${String(i).padStart(4, "0")}.${format === "jpeg" ? "jpg" : "png"}`);
      writeFileSync(file, encodeGray(pixels, size, format));
      files.push(file);
    }
  }
  return files;
}

function main(): void {
  const args = scriptArgs();
  if (args.help) {
    console.log("usage: write-mnist-images --out <dir> [--limit <per digit>] [--seed 1] [--jpeg-fraction 0.25]");
    return;
  }
  const out = resolve(args.string("--out") ?? "data/mnist-images");
  const files = writeMnistImages(out, { limit: args.number("--limit"), seed: args.number("--seed"), jpegFraction: args.number("--jpeg-fraction") });
  console.log(`wrote ${files.length} digit images to ${out}`);
}

runAsScript(import.meta.url, main);
