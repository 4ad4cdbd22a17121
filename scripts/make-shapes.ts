// Draws a small RGB image set of circles, squares and triangles in class folders, for examples
// and tests that must not download anything. Random background and shape colours (kept apart so
// the shape is visible), sizes (the three shapes have equal area for a given size, so area tells
// nothing), positions, rotations and Gaussian noise; anti-aliased edges. Deterministic from the
// seed: the same arguments write the same bytes. About a quarter of the files are JPEG.
// Run: npx tsx scripts/make-shapes.ts --out data/shapes [--per-class 100] [--size 64] [--seed 1]
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import jpeg from "jpeg-js";
import pngjs from "pngjs";
import { Random } from "../src/random.js";
import { runAsScript, scriptArgs } from "./script-args.js";

export const SHAPE_CLASSES = ["circle", "square", "triangle"] as const;
export type ShapeClass = (typeof SHAPE_CLASSES)[number];

export interface ShapesOptions {
  perClass?: number;
  /** Image side in pixels. Default 64. */
  size?: number;
  seed?: number;
  /** Standard deviation of the per-pixel noise, in 0..255 levels. Default 10. */
  noise?: number;
  /** Fraction of files written as JPEG (quality 90). Default 0.25. */
  jpegFraction?: number;
}

const SUPERSAMPLE = 4; // 4x4 samples per pixel for anti-aliased edges

/** `inside(x, y)` for one shape, in pixel coordinates. */
function shapeTest(kind: ShapeClass, cx: number, cy: number, r: number, angle: number): (x: number, y: number) => boolean {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  if (kind === "circle") return (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  if (kind === "square") {
    const half = r * Math.sqrt(Math.PI) / 2; // same area as the circle: (2 half)^2 = pi r^2
    return (x, y) => {
      const u = (x - cx) * cos + (y - cy) * sin;
      const v = -(x - cx) * sin + (y - cy) * cos;
      return Math.abs(u) <= half && Math.abs(v) <= half;
    };
  }
  // equilateral, same area as the circle: (3 sqrt(3) / 4) R^2 = pi r^2
  const R = r * Math.sqrt((4 * Math.PI) / (3 * Math.sqrt(3)));
  const vertices = [0, 1, 2].map((k) => {
    const a = angle + (k * 2 * Math.PI) / 3;
    return [cx + R * Math.cos(a), cy + R * Math.sin(a)];
  });
  return (x, y) => {
    let sign = 0;
    for (let k = 0; k < 3; k++) {
      const [x0, y0] = vertices[k];
      const [x1, y1] = vertices[(k + 1) % 3];
      const cross = (x1 - x0) * (y - y0) - (y1 - y0) * (x - x0);
      const s = Math.sign(cross);
      if (s !== 0 && sign !== 0 && s !== sign) return false;
      if (s !== 0) sign = s;
    }
    return true;
  };
}

/** Reach of a shape from its centre, so it stays inside the image. */
function extent(kind: ShapeClass, r: number): number {
  if (kind === "circle") return r;
  if (kind === "square") return (r * Math.sqrt(Math.PI) / 2) * Math.SQRT2;
  return r * Math.sqrt((4 * Math.PI) / (3 * Math.sqrt(3)));
}

/** One image as RGBA bytes. */
/** Rec. 601 luma of an RGB colour, 0..255. */
const luma = (c: number[]): number => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];

export function drawShape(kind: ShapeClass, size: number, random: Random, noise = 10): Uint8Array {
  // Random hues, but light shapes on dark backgrounds: with any colour on any background a
  // small CNN needs tens of thousands of images to tell the shapes apart; this way a thousand do.
  let background: number[];
  do background = [0, 1, 2].map(() => random.uniform(0, 255));
  while (luma(background) > 85);
  let colour: number[];
  do colour = [0, 1, 2].map(() => random.uniform(0, 255));
  while (luma(colour) < 170 || Math.hypot(colour[0] - background[0], colour[1] - background[1], colour[2] - background[2]) < 120);
  const r = random.uniform(0.15, 0.3) * size;
  const reach = extent(kind, r);
  const cx = random.uniform(reach, size - reach);
  const cy = random.uniform(reach, size - reach);
  const inside = shapeTest(kind, cx, cy, r, random.uniform(0, 2 * Math.PI));
  const out = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let hits = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          if (inside(x + (sx + 0.5) / SUPERSAMPLE, y + (sy + 0.5) / SUPERSAMPLE)) hits++;
        }
      }
      const coverage = hits / SUPERSAMPLE ** 2;
      const o = (y * size + x) * 4;
      for (let c = 0; c < 3; c++) {
        const v = background[c] + (colour[c] - background[c]) * coverage + noise * random.normal();
        out[o + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
      out[o + 3] = 255;
    }
  }
  return out;
}

export function encodeRgb(rgba: Uint8Array, width: number, height: number, format: "png" | "jpeg"): Uint8Array {
  if (format === "jpeg") return jpeg.encode({ data: rgba, width, height }, 90).data;
  const png = new pngjs.PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return pngjs.PNG.sync.write(png, { colorType: 2 });
}

/** Writes <out>/<class>/<class>_<i>.png|jpg; returns the files written. */
export function makeShapes(out: string, options: ShapesOptions = {}): string[] {
  const { perClass = 100, size = 64, seed = 1, noise = 10, jpegFraction = 0.25 } = options;
  if (!Number.isInteger(perClass) || perClass <= 0) throw new Error(`make-shapes: --per-class must be a positive integer, got ${perClass}`);
  if (!Number.isInteger(size) || size < 8) throw new Error(`make-shapes: --size must be an integer of at least 8, got ${size}`);
  if (!(jpegFraction >= 0 && jpegFraction <= 1)) throw new Error(`make-shapes: --jpeg-fraction must be between 0 and 1, got ${jpegFraction}`);
  const random = new Random(seed);
  const files: string[] = [];
  for (const kind of SHAPE_CLASSES) mkdirSync(join(out, kind), { recursive: true });
  // Interleave the classes so each class's images depend on the seed alike.
  for (let i = 0; i < perClass; i++) {
    for (const kind of SHAPE_CLASSES) {
      const format = random.next() < jpegFraction ? "jpeg" : "png";
      const rgba = drawShape(kind, size, random, noise);
      const file = join(out, kind, `${kind}_${String(i).padStart(4, "0")}.${format === "jpeg" ? "jpg" : "png"}`);
      writeFileSync(file, encodeRgb(rgba, size, size, format));
      files.push(file);
    }
  }
  return files;
}

function main(): void {
  const args = scriptArgs();
  if (args.help) {
    console.log("usage: make-shapes --out <dir> [--per-class 100] [--size 64] [--seed 1] [--noise 10] [--jpeg-fraction 0.25]");
    return;
  }
  const out = resolve(args.string("--out") ?? "data/shapes");
  const files = makeShapes(out, {
    perClass: args.number("--per-class"),
    size: args.number("--size"),
    seed: args.number("--seed"),
    noise: args.number("--noise"),
    jpegFraction: args.number("--jpeg-fraction"),
  });
  console.log(`wrote ${files.length} images (${SHAPE_CLASSES.join(", ")}) to ${out}`);
}

runAsScript(import.meta.url, main);
