// Runs in headless Chromium, on the browser entry: one PNG handed to predictImage / classify /
// loadImage as each kind of image a page has (bytes, Blob, File, URLs, <img>, ImageBitmap,
// ImageData, canvases), plus inputs that are not images. Returns what it got; classify.test.ts
// compares the kinds with each other, with the decoded pixels, and with Node.
import {
  classify,
  describeGpu,
  imagesToTensor,
  initGpu,
  loadImage,
  loadModel,
  predictImage,
  predictImages,
  type ClassProbability,
  type ImageInput,
  type ImagePreprocessOptions,
  type Sequential,
} from "../../src/index.js";
import { fromBase64, toBase64 } from "./page/kit.js";
import type { ArtifactsJSON } from "./training.page.js";

/** Decoded pixels as they cross page.evaluate: RGBA bytes in base64. */
export interface PixelsJSON {
  width: number;
  height: number;
  rgba: string;
}

export interface KindResult {
  kind: string;
  top: ClassProbability[];
}

let model: Sequential | null = null;

/** The same PNG as every kind of image input a page can hold. */
async function imageKinds(png: Uint8Array, servedUrl: string): Promise<[string, ImageInput][]> {
  const blob = new Blob([png as Uint8Array<ArrayBuffer>], { type: "image/png" });
  const bitmap = await createImageBitmap(blob);
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const context = canvas.getContext("2d")!;
  context.drawImage(bitmap, 0, 0);
  const offscreen = new OffscreenCanvas(bitmap.width, bitmap.height);
  offscreen.getContext("2d")!.drawImage(bitmap, 0, 0);
  const dataUrl = `data:image/png;base64,${toBase64(png)}`;
  const loaded = new Image();
  loaded.src = dataUrl;
  await loaded.decode();
  // not awaited: predictImage must wait for an <img> that is still loading
  const loading = new Image();
  loading.src = URL.createObjectURL(blob);
  return [
    ["Uint8Array", png],
    ["ArrayBuffer", png.slice().buffer],
    ["Blob", blob],
    ["File", new File([blob], "shape.png", { type: "image/png" })],
    ["URL served by the page's server", servedUrl],
    ["data: URL", dataUrl],
    ["HTMLImageElement (loaded, data: URL)", loaded],
    ["HTMLImageElement (still loading, blob: URL)", loading],
    ["ImageBitmap", bitmap],
    ["ImageData", context.getImageData(0, 0, canvas.width, canvas.height)],
    ["HTMLCanvasElement", canvas],
    ["OffscreenCanvas", offscreen],
  ];
}

/** An error's message, or what came back instead of one. */
async function failure(what: () => Promise<unknown>): Promise<string> {
  try {
    const result = await what();
    return `no error; got ${JSON.stringify(result)}`;
  } catch (error) {
    return error instanceof Error ? error.message : `threw a non-Error: ${String(error)}`;
  }
}

const page = {
  async start(saved: ArtifactsJSON): Promise<{ adapter: string; classNames: string[] | null }> {
    const adapter = describeGpu(await initGpu());
    model = await loadModel({ ...saved.fields, weightData: fromBase64(saved.weightData).buffer });
    return { adapter, classNames: model.classNames };
  },

  /** predictImage on each kind, classify on them all at once, and predictImage on the plain pixels. */
  async predict(png64: string, pixels: PixelsJSON, servedUrl: string): Promise<{ pixels: ClassProbability[]; kinds: KindResult[]; batch: ClassProbability[][] }> {
    const kinds = await imageKinds(fromBase64(png64), servedUrl);
    const plain = { width: pixels.width, height: pixels.height, channels: 4, data: fromBase64(pixels.rgba) };
    const results: KindResult[] = [];
    for (const [kind, input] of kinds) results.push({ kind, top: await predictImage(model!, input, { topK: 3 }) });
    return {
      pixels: await predictImage(model!, plain, { topK: 3 }),
      kinds: results,
      batch: await classify(model!, kinds.map(([, input]) => input), { topK: 3, batchSize: 5 }),
    };
  },

  /** loadImage on several kinds under each set of options, and imagesToTensor of one set. */
  async preprocess(png64: string, servedUrl: string, settings: ImagePreprocessOptions[]): Promise<{ kind: string; values: number[] }[][]> {
    const kinds = await imageKinds(fromBase64(png64), servedUrl);
    const out: { kind: string; values: number[] }[][] = [];
    for (const options of settings) {
      const images = await Promise.all(kinds.map(([, input]) => loadImage(input, options)));
      const x = imagesToTensor(images);
      const all = await x.data();
      x.dispose();
      const size = all.length / kinds.length;
      out.push(kinds.map(([kind], i) => ({ kind, values: Array.from(all.subarray(i * size, (i + 1) * size)) })));
    }
    return out;
  },

  /** The README's example: a model.json URL, then predictImage on a File. */
  async readmeExample(modelUrl: string, png64: string): Promise<ClassProbability[]> {
    const loaded = await loadModel(modelUrl);
    try {
      return await predictImage(loaded, new File([fromBase64(png64) as Uint8Array<ArrayBuffer>], "shape.png", { type: "image/png" }), { topK: 2 });
    } finally {
      loaded.dispose();
    }
  },

  /** Inputs that are not images, each with the error it gave. */
  async badInputs(png64: string, missingUrl: string): Promise<Record<string, string>> {
    const png = fromBase64(png64);
    const text = new Blob(["this is not an image"], { type: "text/plain" });
    const broken = new Image();
    broken.src = URL.createObjectURL(text);
    return {
      blob: await failure(() => predictImage(model!, text)),
      file: await failure(() => classify(model!, new File(["plain words"], "notes.txt", { type: "text/plain" }))),
      third: await failure(() => predictImages(model!, [png, png, text])),
      missing: await failure(() => predictImage(model!, missingUrl)),
      brokenImg: await failure(() => predictImage(model!, broken)),
      empty: await failure(() => predictImage(model!, new Uint8Array(0))),
      notAnImage: await failure(() => predictImage(model!, 42 as unknown as ImageInput)),
      loadImage: await failure(() => loadImage(text, { imageSize: 8 })),
    };
  },
};
(window as unknown as { page: typeof page }).page = page;
