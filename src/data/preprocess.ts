// The preprocessing every image gets on its way into a model, one code path for training
// (imageDatasetFromDirectory) and inference (loadImage, predictImage): the colour mode, an
// optional centred crop to the target aspect ratio, the resize; pixels stay floats 0..255.
// Browser-safe: loadImage takes the browser's image kinds as well as paths and bytes.
import { Tensor } from "../tensor.js";
import { decodeInput, describeInput, type ImageInput } from "./image-input.js";
import { COLOR_MODE_CHANNELS, toColorMode, type ColorMode, type DecodedImage } from "./pixels.js";
import { cropToAspectRatio, INTERPOLATIONS, resizeImage, type FloatImage, type Interpolation } from "./resize.js";
import { checkOptions, type OptionKeys } from "../options.js";

export interface ImagePreprocessOptions {
  /** [height, width] (or one number for a square) that every image is resized to. Default [256, 256]. */
  imageSize?: number | readonly [number, number];
  /** Default "rgb". */
  colorMode?: ColorMode;
  /** Default "bilinear". */
  interpolation?: Interpolation;
  /** Crop the largest centred window of the target aspect ratio before resizing. Default false. */
  cropToAspectRatio?: boolean;
}

/** Preprocessing options checked and filled in. */
export interface Preprocess {
  height: number;
  width: number;
  colorMode: ColorMode;
  channels: number;
  interpolation: Interpolation;
  cropToAspectRatio: boolean;
}

const PREPROCESS_OPTIONS: OptionKeys<ImagePreprocessOptions> = { imageSize: true, colorMode: true, interpolation: true, cropToAspectRatio: true };

export function resolvePreprocess(options: ImagePreprocessOptions): Preprocess {
  const [height, width] = resolveImageSize(options.imageSize ?? [256, 256]);
  const colorMode = options.colorMode ?? "rgb";
  if (!Object.hasOwn(COLOR_MODE_CHANNELS, colorMode)) {
    throw new Error(`gpu-cnn: colorMode must be "rgb", "grayscale" or "rgba", got ${JSON.stringify(colorMode)}`);
  }
  const channels = COLOR_MODE_CHANNELS[colorMode];
  const interpolation = options.interpolation ?? "bilinear";
  if (!INTERPOLATIONS.includes(interpolation)) {
    throw new Error(`gpu-cnn: interpolation must be "bilinear", "nearest" or "area", got ${JSON.stringify(interpolation)}`);
  }
  return { height, width, colorMode, channels, interpolation, cropToAspectRatio: options.cropToAspectRatio ?? false };
}

function resolveImageSize(size: number | readonly [number, number]): [number, number] {
  const pair = typeof size === "number" ? [size, size] : Array.isArray(size) ? size : [];
  if (pair.length !== 2 || !pair.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(
      `gpu-cnn: imageSize must be a positive integer or [height, width] of positive integers, got ${JSON.stringify(size)}. Fix: e.g. imageSize: [64, 64].`,
    );
  }
  return [pair[0], pair[1]];
}

/** A decoded image converted, cropped and resized as `p` says. */
export function preprocessImage(decoded: DecodedImage, p: Preprocess): FloatImage {
  let image = toColorMode(decoded, p.colorMode);
  if (p.cropToAspectRatio) image = cropToAspectRatio(image, p.height, p.width);
  return resizeImage(image, p.height, p.width, p.interpolation);
}

/**
 * One image prepared exactly as imageDatasetFromDirectory prepares its files: [height, width,
 * channels] floats 0..255. Takes a path (Node) or URL (browser), PNG/JPEG bytes, a Blob or File,
 * decoded pixels or ImageData, an <img>, an ImageBitmap or a canvas.
 */
export async function loadImage(source: ImageInput, options: ImagePreprocessOptions = {}): Promise<FloatImage> {
  checkOptions("loadImage()", options, PREPROCESS_OPTIONS);
  const p = resolvePreprocess(options);
  const name = describeInput(source);
  return preprocessImage(await decodeInput(source, name), p);
}

/** Images of one size as a [n, height, width, channels] tensor. */
export function imagesToTensor(images: readonly FloatImage[]): Tensor {
  if (images.length === 0) throw new Error("gpu-cnn: imagesToTensor needs at least one image");
  const { height, width, channels } = images[0];
  const pixels = height * width * channels;
  const x = new Float32Array(images.length * pixels);
  images.forEach((image, i) => {
    if (image.height !== height || image.width !== width || image.channels !== channels) {
      throw new Error(
        `gpu-cnn: imagesToTensor needs images of one size; image 0 is ${height}x${width}x${channels}, image ${i} is ${image.height}x${image.width}x${image.channels}`,
      );
    }
    x.set(image.data, i * pixels);
  });
  return new Tensor([images.length, height, width, channels], x, "images");
}
