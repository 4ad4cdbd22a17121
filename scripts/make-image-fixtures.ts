// Writes the few JPEG fixtures that jpeg-js cannot encode (grayscale, progressive, 4:2:0
// subsampled) to tests/data/fixtures/. Each is a 32x32 image of four flat 16x16 quadrants
// whose values tests/data/decode.test.ts checks. The progressive files are lossless
// re-encodings (jpegtran) of the baseline ones, so both must decode to identical pixels.
// Needs libjpeg-turbo's tools (Debian: apt-get install libjpeg-turbo-progs).
// Run: npx tsx scripts/make-image-fixtures.ts
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Quadrant values (top-left, top-right, bottom-left, bottom-right), shared with the tests. */
export const GRAY_QUADRANTS = [30, 100, 170, 240];
export const RGB_QUADRANTS: [number, number, number][] = [
  [200, 40, 40],
  [40, 180, 60],
  [50, 60, 210],
  [128, 128, 128],
];
export const FIXTURE_SIZE = 32;

function quadrantPixels(channels: number, values: number[][]): Uint8Array {
  const n = FIXTURE_SIZE;
  const out = new Uint8Array(n * n * channels);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const q = (y < n / 2 ? 0 : 2) + (x < n / 2 ? 0 : 1);
      out.set(values[q], (y * n + x) * channels);
    }
  }
  return out;
}

function netpbm(magic: "P5" | "P6", pixels: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${magic}\n${FIXTURE_SIZE} ${FIXTURE_SIZE}\n255\n`), Buffer.from(pixels)]);
}

function main(): void {
  const out = resolve(process.argv[2] ?? "tests/data/fixtures");
  mkdirSync(out, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "gpu-cnn-fixtures-"));
  const run = (tool: string, args: string[]) => {
    try {
      execFileSync(tool, args, { stdio: ["ignore", "ignore", "pipe"] });
    } catch (error) {
      throw new Error(`${tool} failed (${(error as Error).message}). Install libjpeg-turbo's tools: apt-get install libjpeg-turbo-progs`);
    }
  };
  try {
    writeFileSync(join(work, "gray.pgm"), netpbm("P5", quadrantPixels(1, GRAY_QUADRANTS.map((v) => [v]))));
    writeFileSync(join(work, "rgb.ppm"), netpbm("P6", quadrantPixels(3, RGB_QUADRANTS)));
    const file = (name: string) => join(out, name);
    run("cjpeg", ["-quality", "95", "-outfile", file("gray-baseline.jpg"), join(work, "gray.pgm")]);
    run("cjpeg", ["-quality", "95", "-sample", "2x2", "-outfile", file("rgb-baseline-420.jpg"), join(work, "rgb.ppm")]);
    run("jpegtran", ["-progressive", "-copy", "none", "-outfile", file("gray-progressive.jpg"), file("gray-baseline.jpg")]);
    run("jpegtran", ["-progressive", "-copy", "none", "-outfile", file("rgb-progressive-420.jpg"), file("rgb-baseline-420.jpg")]);
    console.log(`wrote gray-baseline.jpg, gray-progressive.jpg, rgb-baseline-420.jpg, rgb-progressive-420.jpg to ${out}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
