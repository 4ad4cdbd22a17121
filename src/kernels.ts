// The kernel table: every compute entry point, its WGSL file, and how many buffers it reads and
// writes. Bindings follow one order everywhere (shaders/README.md): group 0 holds the inputs
// (read-only) then the outputs (read_write); group 1 binding 0 is the op's Params uniform.
import adam from "../shaders/adam.wgsl";
import conv2d from "../shaders/conv2d.wgsl";
import { conv2dForwardSubgroupSource } from "../shaders/conv2d-forward-subgroup.js";
import { conv2dGemmSubgroupSource } from "../shaders/conv2d-gemm-subgroup.js";
import { conv2dImageSources } from "../shaders/conv2d-image-subgroup.js";
import conv2dSubgroup from "../shaders/conv2d-subgroup.wgsl";
import im2col from "../shaders/im2col.wgsl";
import elementwise from "../shaders/elementwise.wgsl";
import matmul from "../shaders/matmul.wgsl";
import { matmulSubgroupSources } from "../shaders/matmul-subgroup.js";
import preprocess from "../shaders/preprocess.wgsl";
import maxpool2d from "../shaders/maxpool2d.wgsl";
import reduce from "../shaders/reduce.wgsl";
import softmax from "../shaders/softmax.wgsl";
import { sharedBlock } from "../shaders/wgsl-text.js";

// WGSL has no includes: these files take a definition from another file's marked shared block
const adamSource = sharedBlock(elementwise, "shaders/elementwise.wgsl") + adam;
const conv2dSubgroupSource = `enable subgroups;\n${sharedBlock(conv2d, "shaders/conv2d.wgsl")}${conv2dSubgroup}`;

interface KernelSpec {
  source: string;
  reads: number;
  writes: number;
  /** WGSL `override` constants (workgroup and tile sizes). */
  constants?: Record<string, number>;
  /** A device feature the kernel needs: compiled only where the device has it (ops fall back). */
  feature?: GPUFeatureName;
}

const k = (source: string, reads: number, writes: number, constants?: Record<string, number>): KernelSpec => ({ source, reads, writes, constants });
const withSubgroups = (spec: KernelSpec): KernelSpec => ({ ...spec, feature: "subgroups" });

/** Entry point name -> spec. The name is the WGSL entry point and labels every GPU object. */
export const KERNELS = {
  fill: k(elementwise, 0, 1),
  add: k(elementwise, 2, 1),
  scale: k(elementwise, 1, 1),
  relu_fwd: k(elementwise, 1, 1),
  relu_bwd: k(elementwise, 2, 1),
  bias_add: k(elementwise, 2, 1),
  bias_relu: k(elementwise, 2, 1),
  sum_rows: k(reduce, 1, 1),
  sum_rows_vec4: k(reduce, 1, 1),
  // inputs a, b, bias (any binding when unused); 8x8 blocks of C per invocation (strided: 4x4)
  // 4x4 invocations of 8x8 blocks: 32x32 of C (SwiftShader, against 8x2: 512^3 146-150 -> 122-128
  // ms, conv2d's unfolded [5408 x 576]·[576 x 32] 113 -> 93 ms; nt and tn the same)
  matmul_nn: k(matmul, 3, 1, { WGX: 4, WGY: 4 }),
  matmul_nt: k(matmul, 3, 1, { WGX: 4, WGY: 4 }),
  matmul_tn: k(matmul, 3, 1, { WGX: 4, WGY: 4 }),
  matmul_strided: k(matmul, 3, 1, { WGX: 8, WGY: 2 }),
  // the same products sharing loads across 8-lane subgroups (shaders/matmul-subgroup.ts)
  matmul_sg8_nn: withSubgroups(k(matmulSubgroupSources.matmul_sg8_nn, 3, 1)),
  matmul_sg8_nt: withSubgroups(k(matmulSubgroupSources.matmul_sg8_nt, 3, 1)),
  matmul_sg8_tn: withSubgroups(k(matmulSubgroupSources.matmul_sg8_tn, 3, 1)),
  matmul_sg16_nn: withSubgroups(k(matmulSubgroupSources.matmul_sg16_nn, 3, 1)),
  matmul_sg16_nt: withSubgroups(k(matmulSubgroupSources.matmul_sg16_nt, 3, 1)),
  matmul_sg16_tn: withSubgroups(k(matmulSubgroupSources.matmul_sg16_tn, 3, 1)),
  matmul_sg32_nn: withSubgroups(k(matmulSubgroupSources.matmul_sg32_nn, 3, 1)),
  matmul_sg32_nt: withSubgroups(k(matmulSubgroupSources.matmul_sg32_nt, 3, 1)),
  matmul_sg32_tn: withSubgroups(k(matmulSubgroupSources.matmul_sg32_tn, 3, 1)),
  // split-K: adds the slices' partial sums and applies the epilogue (partials, bias)
  matmul_reduce: k(matmul, 2, 1, { WGX: 8, WGY: 2 }),
  conv2d_fwd: k(conv2d, 3, 1),
  conv2d_fwd_vec4: k(conv2d, 3, 1),
  conv2d_fwd_slide: k(conv2d, 3, 1),
  conv2d_fwd_row8: k(conv2d, 3, 1),
  conv2d_bwd_input: k(conv2d, 2, 1),
  conv2d_bwd_input_vec4: k(conv2d, 2, 1),
  conv2d_bwd_input_slide1: k(conv2d, 2, 1),
  conv2d_bwd_input_slide2: k(conv2d, 2, 1),
  conv2d_bwd_input_slide3: k(conv2d, 2, 1),
  conv2d_bwd_input_slide4: k(conv2d, 2, 1),
  conv2d_bwd_input_ring1: k(conv2d, 2, 1),
  conv2d_flip_filter: k(conv2d, 1, 1),
  conv2d_im2col: k(im2col, 1, 1),
  conv2d_col2im: k(im2col, 1, 1),
  conv2d_col2im1: k(im2col, 1, 1),
  conv2d_filter_transpose: k(im2col, 1, 1),
  conv2d_bwd_filter: k(conv2d, 2, 1),
  conv2d_bwd_filter_vec4: k(conv2d, 2, 1),
  conv2d_bwd_filter_row9: k(conv2d, 2, 1),
  // teams of 8 lanes sharing inputs by subgroupShuffle (shaders/conv2d-forward-subgroup.ts and
  // shaders/conv2d-subgroup.wgsl)
  conv2d_fwd_sg3: withSubgroups(k(conv2dForwardSubgroupSource, 3, 1)),
  conv2d_fwd_img1: withSubgroups(k(conv2dImageSources.conv2d_fwd_img1, 3, 1)),
  conv2d_fwd_img3: withSubgroups(k(conv2dImageSources.conv2d_fwd_img3, 3, 1)),
  conv2d_fwd_gemm: withSubgroups(k(conv2dGemmSubgroupSource, 3, 1)),
  conv2d_bwd_filter_gemm: withSubgroups(k(conv2dGemmSubgroupSource, 2, 1)),
  conv2d_bwd_filter_sg: withSubgroups(k(conv2dSubgroupSource, 2, 1)),
  conv2d_bwd_filter_img1: withSubgroups(k(conv2dImageSources.conv2d_bwd_filter_img1, 2, 1)),
  conv2d_bwd_filter_img3: withSubgroups(k(conv2dImageSources.conv2d_bwd_filter_img3, 2, 1)),
  conv2d_bwd_input_img1: withSubgroups(k(conv2dImageSources.conv2d_bwd_input_img1, 2, 1)),
  conv2d_bwd_input_img2: withSubgroups(k(conv2dImageSources.conv2d_bwd_input_img2, 2, 1)),
  conv2d_bwd_input_img3: withSubgroups(k(conv2dImageSources.conv2d_bwd_input_img3, 2, 1)),
  conv2d_bwd_input_img4: withSubgroups(k(conv2dImageSources.conv2d_bwd_input_img4, 2, 1)),
  maxpool2d_fwd: k(maxpool2d, 1, 2),
  maxpool2d_fwd_vec4: k(maxpool2d, 1, 2),
  maxpool2d_fwd_vec4_2x2: k(maxpool2d, 1, 2, { WG: 64 }),
  maxpool2d_fwd_vec4_2x2_max: k(maxpool2d, 1, 1, { WG: 64 }),
  maxpool2d_bwd: k(maxpool2d, 2, 1),
  maxpool2d_bwd_vec4: k(maxpool2d, 2, 1),
  maxpool2d_bwd_tile: k(maxpool2d, 2, 1),
  maxpool2d_bwd_tile_vec4: k(maxpool2d, 2, 1),
  maxpool2d_bwd_tile_vec4_2x2: k(maxpool2d, 2, 1, { WG: 64 }),
  softmax_fwd: k(softmax, 1, 1),
  softmax_bwd: k(softmax, 2, 1),
  softmax_xent_fwd: k(softmax, 2, 2),
  softmax_xent_bwd: k(softmax, 3, 1),
  xent_probs: k(softmax, 2, 1),
  accuracy: k(softmax, 2, 1),
  adam: k(adamSource, 2, 3),
  sgd: k(adamSource, 2, 2),
  sgd_plain: k(adamSource, 2, 1),
  guard: k(adamSource, 1, 1),
  // preprocessing and augmentation layers (shaders/preprocess.wgsl)
  rescale_channels: k(preprocess, 2, 1),
  rescale_last: k(preprocess, 2, 1),
  resize_image: k(preprocess, 2, 1),
  augment_affine: k(preprocess, 2, 1),
  channel_sums: k(preprocess, 1, 1),
  augment_contrast: k(preprocess, 3, 1),
  augment_brightness: k(preprocess, 2, 1),
} satisfies Record<string, KernelSpec>;

export type KernelName = keyof typeof KERNELS;

export interface CompiledKernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  bindings: number;
}

export class Kernels {
  constructor(
    readonly paramsLayout: GPUBindGroupLayout,
    private compiled: Map<string, CompiledKernel>,
    private failed: Map<string, string>,
  ) {}

  /** Whether the kernel compiled on this device (kernels needing a missing feature do not). */
  has(name: string): boolean {
    return this.compiled.has(name);
  }

  /** Kernels that failed to compile, with the compiler's message (ops fall back where they can). */
  failures(): ReadonlyMap<string, string> {
    return this.failed;
  }

  get(name: string): CompiledKernel {
    const kernel = this.compiled.get(name);
    if (kernel) return kernel;
    const why = this.failed.get(name);
    throw new Error(why ? `gpu-cnn: kernel ${name} failed to compile: ${why}` : `gpu-cnn: no kernel named ${name}`);
  }
}

/**
 * Creates every kernel's pipeline (or only `names`), in parallel, at device start. Drivers that
 * compile lazily (lavapipe) still turn each into machine code at its first dispatch.
 */
export async function compileKernels(device: GPUDevice, names?: readonly string[]): Promise<Kernels> {
  const paramsLayout = device.createBindGroupLayout({
    label: "gpu-cnn params",
    entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "uniform", hasDynamicOffset: true, minBindingSize: 0 } }],
  });
  const modules = new Map<string, GPUShaderModule>();
  const compiled = new Map<string, CompiledKernel>();
  const failed = new Map<string, string>();
  await Promise.all(
    Object.entries(KERNELS).map(async ([name, spec]: [string, KernelSpec]) => {
      if (spec.feature && !device.features.has(spec.feature)) return;
      if (names && !names.includes(name)) return;
      let module = modules.get(spec.source);
      if (!module) {
        module = device.createShaderModule({ label: name, code: spec.source });
        modules.set(spec.source, module);
      }
      const bindings = spec.reads + spec.writes;
      const layout = device.createBindGroupLayout({
        label: name,
        entries: Array.from({ length: bindings }, (_, i) => ({
          binding: i,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: i < spec.reads ? "read-only-storage" : "storage" } as GPUBufferBindingLayout,
        })),
      });
      try {
        const pipeline = await device.createComputePipelineAsync({
          label: name,
          layout: device.createPipelineLayout({ label: name, bindGroupLayouts: [layout, paramsLayout] }),
          compute: { module, entryPoint: name, constants: spec.constants },
        });
        compiled.set(name, { pipeline, layout, bindings });
      } catch (e) {
        failed.set(name, (e as Error).message);
      }
    }),
  );
  return new Kernels(paramsLayout, compiled, failed);
}
