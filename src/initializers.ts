// Weight initialisers, as Keras: they fill a CPU array that becomes the weight tensor (so a model
// can be built before the GPU is ready). The model's seeded Random drives them unless an
// initialiser carries its own seed.
import { Random } from "./random.js";
import { shapeString, shapeSize, type Shape } from "./tensor.js";

export interface Initializer {
  /** Keras' class name, e.g. "GlorotUniform" (used by getConfig() and saving). */
  readonly className: string;
  generate(shape: Shape, random: Random): Float32Array;
  getConfig(): Record<string, unknown>;
}

/** Keras' fan-in and fan-out: kernels [kh, kw, inC, outC] count the receptive field. */
export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  const receptive = shapeSize(shape.slice(0, -2));
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

function fillWith(shape: Shape, draw: () => number): Float32Array {
  const out = new Float32Array(shapeSize(shape));
  for (let i = 0; i < out.length; i++) out[i] = draw();
  return out;
}

export class Constant implements Initializer {
  readonly className: string = "Constant";
  constructor(readonly value = 0) {}
  generate(shape: Shape): Float32Array {
    return new Float32Array(shapeSize(shape)).fill(this.value);
  }
  getConfig(): Record<string, unknown> {
    return { value: this.value };
  }
}

export class Zeros extends Constant {
  override readonly className = "Zeros";
  constructor() {
    super(0);
  }
  override getConfig(): Record<string, unknown> {
    return {};
  }
}

export class Ones extends Constant {
  override readonly className = "Ones";
  constructor() {
    super(1);
  }
  override getConfig(): Record<string, unknown> {
    return {};
  }
}

abstract class Seeded implements Initializer {
  abstract readonly className: string;
  constructor(readonly seed?: number) {}
  generate(shape: Shape, random: Random): Float32Array {
    return this.draw(shape, this.seed === undefined ? random : new Random(this.seed));
  }
  protected abstract draw(shape: Shape, random: Random): Float32Array;
  getConfig(): Record<string, unknown> {
    return { seed: this.seed ?? null };
  }
}

export class RandomUniform extends Seeded {
  readonly className = "RandomUniform";
  constructor(readonly minval = -0.05, readonly maxval = 0.05, seed?: number) {
    super(seed);
  }
  protected draw(shape: Shape, random: Random): Float32Array {
    return random.fillUniform(new Float32Array(shapeSize(shape)), this.minval, this.maxval);
  }
  override getConfig(): Record<string, unknown> {
    return { minval: this.minval, maxval: this.maxval, seed: this.seed ?? null };
  }
}

export class RandomNormal extends Seeded {
  readonly className = "RandomNormal";
  constructor(readonly mean = 0, readonly stddev = 0.05, seed?: number) {
    super(seed);
  }
  protected draw(shape: Shape, random: Random): Float32Array {
    return fillWith(shape, () => this.mean + this.stddev * random.normal());
  }
  override getConfig(): Record<string, unknown> {
    return { mean: this.mean, stddev: this.stddev, seed: this.seed ?? null };
  }
}

type FanMode = "fanIn" | "fanOut" | "fanAvg";

/** Keras' VarianceScaling, the family behind Glorot and He. */
export class VarianceScaling extends Seeded {
  readonly className: string = "VarianceScaling";
  constructor(
    readonly scale: number,
    readonly mode: FanMode,
    readonly distribution: "uniform" | "truncatedNormal",
    seed?: number,
  ) {
    super(seed);
  }
  override getConfig(): Record<string, unknown> {
    return { scale: this.scale, mode: this.mode, distribution: this.distribution, seed: this.seed ?? null };
  }
  protected draw(shape: Shape, random: Random): Float32Array {
    const { fanIn, fanOut } = fans(shape);
    const n = this.mode === "fanIn" ? fanIn : this.mode === "fanOut" ? fanOut : (fanIn + fanOut) / 2;
    if (n <= 0) throw new Error(`gpu-cnn: ${this.className} cannot initialise a weight of shape ${shapeString(shape)}`);
    const variance = this.scale / n;
    if (this.distribution === "uniform") {
      const limit = Math.sqrt(3 * variance);
      return random.fillUniform(new Float32Array(shapeSize(shape)), -limit, limit);
    }
    // stddev of a standard normal truncated at ±2, as Keras corrects for
    const stddev = Math.sqrt(variance) / 0.87962566103423978;
    return fillWith(shape, () => stddev * random.truncatedNormal());
  }
}

/** Glorot and He: VarianceScaling with fixed parameters, so (as in Keras) their config is the seed only. */
abstract class FixedScaling extends VarianceScaling {
  override getConfig(): Record<string, unknown> {
    return { seed: this.seed ?? null };
  }
}

export class GlorotUniform extends FixedScaling {
  override readonly className = "GlorotUniform";
  constructor(seed?: number) {
    super(1, "fanAvg", "uniform", seed);
  }
}
export class GlorotNormal extends FixedScaling {
  override readonly className = "GlorotNormal";
  constructor(seed?: number) {
    super(1, "fanAvg", "truncatedNormal", seed);
  }
}
export class HeUniform extends FixedScaling {
  override readonly className = "HeUniform";
  constructor(seed?: number) {
    super(2, "fanIn", "uniform", seed);
  }
}
export class HeNormal extends FixedScaling {
  override readonly className = "HeNormal";
  constructor(seed?: number) {
    super(2, "fanIn", "truncatedNormal", seed);
  }
}

/** tfjs-style factories: `initializers.heNormal({ seed: 1 })`. */
export const initializers = {
  zeros: () => new Zeros(),
  ones: () => new Ones(),
  constant: (args: { value: number }) => new Constant(args.value),
  randomUniform: (args: { minval?: number; maxval?: number; seed?: number } = {}) => new RandomUniform(args.minval, args.maxval, args.seed),
  randomNormal: (args: { mean?: number; stddev?: number; seed?: number } = {}) => new RandomNormal(args.mean, args.stddev, args.seed),
  glorotUniform: (args: { seed?: number } = {}) => new GlorotUniform(args.seed),
  glorotNormal: (args: { seed?: number } = {}) => new GlorotNormal(args.seed),
  heUniform: (args: { seed?: number } = {}) => new HeUniform(args.seed),
  heNormal: (args: { seed?: number } = {}) => new HeNormal(args.seed),
};

export type InitializerName = keyof typeof initializers;

/** Names as tfjs ("glorotUniform") or Keras ("glorot_uniform") spell them. */
const byName: Record<string, () => Initializer> = {
  zeros: () => new Zeros(),
  ones: () => new Ones(),
  randomuniform: () => new RandomUniform(),
  randomnormal: () => new RandomNormal(),
  glorotuniform: () => new GlorotUniform(),
  glorotnormal: () => new GlorotNormal(),
  heuniform: () => new HeUniform(),
  henormal: () => new HeNormal(),
};

export function getInitializer(init: string | Initializer): Initializer {
  if (typeof init !== "string") return init;
  const make = byName[init.replace(/_/g, "").toLowerCase()];
  if (!make) throw new Error(`gpu-cnn: unknown initializer "${init}"; use one of ${Object.keys(initializers).join(", ")}`);
  return make();
}

/** An initializer as saved: Keras' class name and its config, in tfjs' camelCase. */
export interface InitializerSpec {
  className: string;
  config?: Record<string, unknown>;
}

export function serializeInitializer(init: Initializer | string): { className: string; config: Record<string, unknown> } {
  const i = getInitializer(init);
  return { className: i.className, config: i.getConfig() };
}

/**
 * gpu-cnn's initializer for a saved `{ className, config }` (camelCase, as tfjs reads
 * model.json), or null when gpu-cnn has none that draws the same values.
 */
export function findInitializer(spec: InitializerSpec): Initializer | null {
  const config = spec.config ?? {};
  const num = (key: string): number | undefined => (typeof config[key] === "number" ? (config[key] as number) : undefined);
  const seed = num("seed");
  switch (spec.className) {
    case "Zeros":
      return new Zeros();
    case "Ones":
      return new Ones();
    case "Constant":
      return new Constant(num("value") ?? 0);
    case "RandomUniform":
      return new RandomUniform(num("minval"), num("maxval"), seed);
    case "RandomNormal":
      return new RandomNormal(num("mean"), num("stddev"), seed);
    case "GlorotUniform":
      return new GlorotUniform(seed);
    case "GlorotNormal":
      return new GlorotNormal(seed);
    case "HeUniform":
      return new HeUniform(seed);
    case "HeNormal":
      return new HeNormal(seed);
    case "VarianceScaling": {
      const mode = config.mode ?? "fanIn";
      if (mode !== "fanIn" && mode !== "fanOut" && mode !== "fanAvg") return null;
      // tfjs' "normal" is a truncated normal, as Keras' "truncated_normal"
      const distribution = config.distribution ?? "truncatedNormal";
      const dist = distribution === "uniform" ? "uniform" : distribution === "normal" || distribution === "truncatedNormal" ? "truncatedNormal" : null;
      return dist ? new VarianceScaling(num("scale") ?? 1, mode, dist, seed) : null;
    }
    default:
      return null;
  }
}

/** The inverse of serializeInitializer (a layer's fromConfig); throws for an initializer gpu-cnn lacks. */
export function deserializeInitializer(spec: InitializerSpec): Initializer {
  const init = findInitializer(spec);
  if (!init) throw new Error(`gpu-cnn: unknown initializer class "${spec.className}"`);
  return init;
}
