// Pixels in and out of the page: the bundled MNIST digits, dropped image files and the pad
// (decoded and resized by the library's loadImage, as training files are in Node), and the
// drawing pad turned into an MNIST-like 28×28 digit.
import { loadImage } from "gpu-cnn";
import digitsGz from "virtual:mnist-subset";

export interface Digits {
  count: number;
  labels: Uint8Array;
  /** count × 784 values in [0, 1]. */
  pixels: Float32Array;
}

/** The digits bundled with the page (see build.ts for the layout), gunzipped by the browser. */
export async function loadDigits(): Promise<Digits> {
  const stream = new Blob([digitsGz]).stream().pipeThrough(new DecompressionStream("gzip"));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  const count = new DataView(bytes.buffer).getUint32(0, true);
  const labels = bytes.slice(4, 4 + count);
  const raw = bytes.subarray(4 + count);
  const pixels = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) pixels[i] = raw[i] / 255;
  return { count, labels, pixels };
}

function canvas(width: number, height: number): [HTMLCanvasElement, CanvasRenderingContext2D] {
  const c = document.createElement("canvas");
  c.width = width;
  c.height = height;
  const ctx = c.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("no 2-D canvas");
  return [c, ctx];
}

/**
 * An image (a dropped file, a canvas) prepared by the library's loadImage — decoded and resized by
 * the code imageDatasetFromDirectory uses, centre-cropped to a square as the demo always did
 * (its cropToAspectRatio) — then scaled from 0..255 to [0, 1]: the demo's models have no
 * Rescaling layer and train on [0, 1], like the bundled MNIST digits.
 */
export async function modelInput(source: Blob | HTMLCanvasElement, size: number, channels: 1 | 3): Promise<Float32Array> {
  const image = await loadImage(source, { imageSize: size, colorMode: channels === 1 ? "grayscale" : "rgb", cropToAspectRatio: true });
  return image.data.map((v) => v / 255);
}

/** A canvas's pixels as gray values in [0, 1], at its own size (loadImage does not resize then). */
async function grayPixels(source: HTMLCanvasElement): Promise<Float32Array> {
  const image = await loadImage(source, { imageSize: [source.height, source.width], colorMode: "grayscale" });
  return image.data.map((v) => v / 255);
}

/**
 * A digit as MNIST prepares them: white on black, the ink's bounding box scaled to fit 20×20,
 * placed in a 28×28 image with its center of mass at the center. Null when nothing is drawn.
 */
export async function mnistLike(source: HTMLCanvasElement): Promise<Float32Array | null> {
  const { width, height } = source;
  const gray = await grayPixels(source);
  // a light background (a photo of ink on paper): invert it
  const mean = gray.reduce((a, b) => a + b, 0) / gray.length;
  if (mean > 0.5) for (let i = 0; i < gray.length; i++) gray[i] = 1 - gray[i];
  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (gray[y * width + x] > 0.2) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const [ink, inkCtx] = canvas(width, height);
  const image = inkCtx.createImageData(width, height);
  gray.forEach((v, i) => image.data.set([v * 255, v * 255, v * 255, 255], 4 * i));
  inkCtx.putImageData(image, 0, 0);
  const [boxW, boxH] = [x1 - x0 + 1, y1 - y0 + 1];
  const scale = 20 / Math.max(boxW, boxH);
  const [w, h] = [boxW * scale, boxH * scale];
  const place = (dx: number, dy: number): Promise<Float32Array> => {
    const [digit, ctx] = canvas(28, 28);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, 28, 28);
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(ink, x0, y0, boxW, boxH, (28 - w) / 2 + dx, (28 - h) / 2 + dy, w, h);
    return grayPixels(digit);
  };
  const centered = await place(0, 0);
  let [sum, sx, sy] = [0, 0, 0];
  centered.forEach((v, i) => {
    sum += v;
    sx += v * (i % 28);
    sy += v * Math.floor(i / 28);
  });
  return sum > 0 ? await place(13.5 - sx / sum, 13.5 - sy / sum) : centered;
}

/** Draws size × size floats (gray or RGB) into a canvas, scaled up with square pixels. */
export function show(target: HTMLCanvasElement, values: Float32Array, size: number, channels: number, at: [number, number] = [0, 0], scale = target.width / size): void {
  const [tile, ctx] = canvas(size, size);
  const image = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const [r, g, b] = channels === 1 ? [values[i], values[i], values[i]] : [values[3 * i], values[3 * i + 1], values[3 * i + 2]];
    image.data.set([r * 255, g * 255, b * 255, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
  const out = target.getContext("2d")!;
  out.imageSmoothingEnabled = false;
  out.drawImage(tile, at[0], at[1], size * scale, size * scale);
}
