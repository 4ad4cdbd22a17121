// Every PNG and JPEG variant the dataset reads, decoded against pixel values known from how the
// file was made; the channel conversions of Keras' decode_image; and the bad-file errors.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import jpeg from "jpeg-js";
import pngjs from "pngjs";
import { describe, expect, it } from "vitest";
import { decodeImage, sniffFormat, toColorMode, type DecodedImage } from "../../src/data/decode.js";
import { FIXTURE_SIZE, GRAY_QUADRANTS, RGB_QUADRANTS } from "../../scripts/make-image-fixtures.js";
import { Random } from "../../src/random.js";
import { encodePng, type PngSpec } from "./png-writer.js";

const fixtures = join(__dirname, "fixtures");
const random = new Random(7);

/** Random samples for a spec's pixels, below 2^bitDepth (palette: indices below `entries`). */
function samples(width: number, height: number, channels: number, bitDepth: number, entries?: number): number[] {
  const max = entries ?? 2 ** bitDepth;
  return Array.from({ length: width * height * channels }, () => random.int(max));
}

function rgbaAt(image: DecodedImage, x: number, y: number): number[] {
  const o = (y * image.width + x) * 4;
  return Array.from(image.data.subarray(o, o + 4));
}

/** What TensorFlow's uint8 decoder gives for one sample: 16-bit keeps the high byte, low depths scale up. */
function to8(v: number, bitDepth: number): number {
  if (bitDepth === 16) return v >> 8;
  return Math.round((v * 255) / (2 ** bitDepth - 1));
}

/** Expected RGBA of every pixel of a non-palette spec. */
function expectedRgba(spec: PngSpec): number[] {
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[spec.colorType as 0 | 2 | 4 | 6];
  const out: number[] = [];
  for (let p = 0; p < spec.width * spec.height; p++) {
    const s = Array.from({ length: channels }, (_, c) => to8(spec.samples[p * channels + c], spec.bitDepth));
    if (channels === 1) out.push(s[0], s[0], s[0], 255);
    else if (channels === 2) out.push(s[0], s[0], s[0], s[1]);
    else if (channels === 3) out.push(s[0], s[1], s[2], 255);
    else out.push(...s);
  }
  return out;
}

describe("PNG", () => {
  const cases: { colorType: 0 | 2 | 4 | 6; bitDepth: 1 | 2 | 4 | 8 | 16; sourceChannels: number }[] = [
    { colorType: 0, bitDepth: 1, sourceChannels: 1 },
    { colorType: 0, bitDepth: 2, sourceChannels: 1 },
    { colorType: 0, bitDepth: 4, sourceChannels: 1 },
    { colorType: 0, bitDepth: 8, sourceChannels: 1 },
    { colorType: 0, bitDepth: 16, sourceChannels: 1 },
    { colorType: 4, bitDepth: 8, sourceChannels: 2 },
    { colorType: 4, bitDepth: 16, sourceChannels: 2 },
    { colorType: 2, bitDepth: 8, sourceChannels: 3 },
    { colorType: 2, bitDepth: 16, sourceChannels: 3 },
    { colorType: 6, bitDepth: 8, sourceChannels: 4 },
    { colorType: 6, bitDepth: 16, sourceChannels: 4 },
  ];
  for (const { colorType, bitDepth, sourceChannels } of cases) {
    for (const interlace of [false, true]) {
      it(`colour type ${colorType}, ${bitDepth}-bit${interlace ? ", Adam7 interlaced" : ""}`, async () => {
        // odd sizes: rows end mid-byte at low depths, and Adam7 passes are uneven
        const spec: PngSpec = { width: 11, height: 7, colorType, bitDepth, interlace, samples: [] };
        spec.samples = samples(11, 7, { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType], bitDepth);
        const image = await decodeImage(encodePng(spec), "test.png");
        expect(image).toMatchObject({ width: 11, height: 7, channels: 4, format: "png", sourceChannels, bitDepth, palette: false, progressive: interlace });
        expect(Array.from(image.data)).toEqual(expectedRgba(spec));
      });
    }
  }

  it("16-bit samples keep their high byte, as TensorFlow's uint8 decode does (not rounded)", async () => {
    const spec: PngSpec = { width: 3, height: 1, colorType: 0, bitDepth: 16, samples: [0x80ff, 0x00ff, 0xff00] };
    const image = await decodeImage(encodePng(spec));
    expect([image.data[0], image.data[4], image.data[8]]).toEqual([0x80, 0x00, 0xff]);
  });

  for (const bitDepth of [1, 2, 4, 8] as const) {
    for (const withAlpha of [false, true]) {
      it(`palette, ${bitDepth}-bit${withAlpha ? ", with tRNS" : ""}`, async () => {
        const entries = Math.min(2 ** bitDepth, 13);
        const palette = Array.from({ length: entries }, () => [random.int(256), random.int(256), random.int(256)] as [number, number, number]);
        // tRNS may be shorter than the palette: later entries are opaque
        const transparency = withAlpha ? Array.from({ length: Math.max(1, entries - 1) }, () => random.int(256)) : undefined;
        const indices = samples(9, 5, 1, bitDepth, entries);
        const image = await decodeImage(encodePng({ width: 9, height: 5, colorType: 3, bitDepth, palette, transparency, samples: indices, interlace: bitDepth === 4 }));
        expect(image).toMatchObject({ palette: true, sourceChannels: withAlpha ? 4 : 3, bitDepth });
        const expected = indices.flatMap((i) => [...palette[i], transparency?.[i] ?? 255]);
        expect(Array.from(image.data)).toEqual(expected);
      });
    }
  }

  it("reads pngjs' own output (adaptive row filters, several IDAT chunks)", async () => {
    const png = new pngjs.PNG({ width: 40, height: 30 });
    for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 7 + (i >> 6)) & 0xff;
    const bytes = pngjs.PNG.sync.write(png, { deflateChunkSize: 512 });
    const image = await decodeImage(bytes);
    expect(Array.from(image.data)).toEqual(Array.from(png.data));
  });
});

describe("JPEG", () => {
  const quadrantAt = (image: DecodedImage, q: number) => {
    // centre of each 16x16 quadrant, away from the chroma-upsampling seams
    const x = (q % 2) * 16 + 8;
    const y = Math.floor(q / 2) * 16 + 8;
    return rgbaAt(image, x, y);
  };

  it("baseline colour (jpeg-js encoder)", async () => {
    const rgba = new Uint8Array(32 * 32 * 4);
    for (let p = 0; p < 32 * 32; p++) {
      const q = (Math.floor(p / 32) < 16 ? 0 : 2) + (p % 32 < 16 ? 0 : 1);
      rgba.set([...RGB_QUADRANTS[q], 255], p * 4);
    }
    const image = await decodeImage(jpeg.encode({ data: rgba, width: 32, height: 32 }, 95).data, "a.jpg");
    expect(image).toMatchObject({ width: 32, height: 32, format: "jpeg", sourceChannels: 3, progressive: false, bitDepth: 8 });
    for (let q = 0; q < 4; q++) {
      const [r, g, b, a] = quadrantAt(image, q);
      for (const [got, want] of [[r, RGB_QUADRANTS[q][0]], [g, RGB_QUADRANTS[q][1]], [b, RGB_QUADRANTS[q][2]]]) expect(Math.abs(got - want)).toBeLessThanOrEqual(3);
      expect(a).toBe(255);
    }
  });

  for (const name of ["gray-baseline", "gray-progressive"]) {
    it(`${name} (libjpeg, one component)`, async () => {
      const image = await decodeImage(readFileSync(join(fixtures, `${name}.jpg`)), name);
      expect(image).toMatchObject({ width: FIXTURE_SIZE, height: FIXTURE_SIZE, sourceChannels: 1, progressive: name.endsWith("progressive") });
      for (let q = 0; q < 4; q++) {
        const [r, g, b, a] = quadrantAt(image, q);
        expect(Math.abs(r - GRAY_QUADRANTS[q])).toBeLessThanOrEqual(2);
        expect([g, b, a]).toEqual([r, r, 255]);
      }
    });
  }

  for (const name of ["rgb-baseline-420", "rgb-progressive-420"]) {
    it(`${name} (libjpeg, 4:2:0 chroma)`, async () => {
      const image = await decodeImage(readFileSync(join(fixtures, `${name}.jpg`)), name);
      expect(image).toMatchObject({ sourceChannels: 3, progressive: name.includes("progressive") });
      for (let q = 0; q < 4; q++) {
        const px = quadrantAt(image, q);
        for (let c = 0; c < 3; c++) expect(Math.abs(px[c] - RGB_QUADRANTS[q][c])).toBeLessThanOrEqual(3);
      }
    });
  }

  it("progressive files decode to exactly the pixels of the baseline files they were transcoded from", async () => {
    for (const kind of ["gray", "rgb"]) {
      const suffix = kind === "rgb" ? "-420" : "";
      const baseline = await decodeImage(readFileSync(join(fixtures, `${kind}-baseline${suffix}.jpg`)));
      const progressive = await decodeImage(readFileSync(join(fixtures, `${kind}-progressive${suffix}.jpg`)));
      expect(Buffer.from(progressive.data).equals(Buffer.from(baseline.data))).toBe(true);
    }
  });
});

describe("colour modes (tf.io.decode_image channels=1/3/4)", () => {
  const image = (format: "png" | "jpeg", rgba: number[]): DecodedImage => ({
    width: rgba.length / 4,
    height: 1,
    channels: 4,
    data: Uint8Array.from(rgba),
    format,
    sourceChannels: 4,
    bitDepth: 8,
    palette: false,
    progressive: false,
  });

  it("rgb drops alpha without compositing; rgba keeps it", () => {
    const src = image("png", [10, 20, 30, 0, 200, 100, 50, 128]);
    expect(Array.from(toColorMode(src, "rgb").data)).toEqual([10, 20, 30, 200, 100, 50]);
    expect(toColorMode(src, "rgba").data).toBe(src.data);
  });

  it("grayscale from PNG: libpng's truncating 9797/19234/3737 weights", () => {
    const gray = toColorMode(image("png", [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 90, 90, 90, 255, 12, 200, 77, 255]), "grayscale");
    expect(gray.channels).toBe(1);
    // (9797*12 + 19234*200 + 3737*77) >> 15 = 4252113 >> 15 = 129 (truncated; the JPEG rule below rounds to 130)
    expect(Array.from(gray.data)).toEqual([76, 149, 29, 90, 129]);
  });

  it("grayscale from JPEG: rounded luma 0.299 R + 0.587 G + 0.114 B", () => {
    const gray = toColorMode(image("jpeg", [255, 0, 0, 255, 12, 200, 77, 255]), "grayscale");
    // 76.245 -> 76; 3.588 + 117.4 + 8.778 = 129.766 -> 130
    expect(Array.from(gray.data)).toEqual([76, 130]);
  });
});

describe("bad files", () => {
  const png = () => encodePng({ width: 8, height: 8, colorType: 2, bitDepth: 8, samples: samples(8, 8, 3, 8) });
  const jpg = () => {
    const rgba = new Uint8Array(16 * 16 * 4).map((_, i) => (i * 31) & 0xff);
    return new Uint8Array(jpeg.encode({ data: rgba, width: 16, height: 16 }, 90).data);
  };

  it.each([
    ["truncated PNG", () => png().subarray(0, 60), /cannot decode cats\/x\.png as PNG: .*corrupt or truncated.*skipBadImages/],
    ["PNG with a damaged IDAT (CRC mismatch)", () => { const b = png(); b[b.length - 20] ^= 0xff; return b; }, /cannot decode cats\/x\.png as PNG/],
    ["truncated JPEG", () => jpg().subarray(0, 200), /cannot decode cats\/x\.png as JPEG: .*corrupt or truncated/],
    ["JPEG without its end marker", () => { const b = jpg(); return b.subarray(0, b.length - 2); }, /cannot decode cats\/x\.png as JPEG/],
    ["empty file", () => new Uint8Array(0), /cannot decode cats\/x\.png: the file is empty/],
    ["BMP", () => Uint8Array.from([0x42, 0x4d, 1, 2, 3, 4, 5, 6]), /cats\/x\.png: it is a BMP image; gpu-cnn reads PNG and JPEG only\. Fix: convert it to PNG/],
    ["GIF", () => new TextEncoder().encode("GIF89a...."), /it is a GIF image/],
    ["text", () => new TextEncoder().encode("hello, world"), /not a PNG or JPEG image \(unrecognised contents\)/],
  ])("%s: one error naming the file", async (_, bytes, message) => {
    const error = await decodeImage(bytes(), "cats/x.png").catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("\n");
  });

  it("the format comes from the contents, not the name", async () => {
    expect(sniffFormat(jpg())).toBe("jpeg");
    const image = await decodeImage(jpg(), "mislabelled.png");
    expect(image.format).toBe("jpeg");
  });
});
