// The one GPU device: adapter and limits, command batching, submission, read-back and error
// reporting. Platform-free: Node installs its adapter source through setAdapterSource().
import { compileKernels, type Kernels } from "./kernels.js";
import { BufferPool } from "./pool.js";
import { Profiler, type KernelTime } from "./profiler.js";
import { WARM_UP_KERNELS, warmUpKernels, type WarmUp } from "./warmup.js";
export type { KernelTime } from "./profiler.js";

export interface GpuInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** How the adapter was found, e.g. "navigator.gpu" or "Dawn (VK_ICD_FILENAMES=...)". */
  source: string;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  /** A CPU implementation of WebGPU (lavapipe, SwiftShader): kernels size their grids for its cores. */
  software: boolean;
}

export interface AdapterSource {
  adapter: GPUAdapter;
  source: string;
  /** Another adapter of the same driver, for a helper device (Node: see src/warmup.ts). */
  another?: () => Promise<GPUAdapter | null>;
}

let adapterSource: () => Promise<AdapterSource> = async () => {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    throw new Error(
      "gpu-cnn: this browser has no WebGPU (navigator.gpu is undefined). Use a browser with WebGPU " +
        "(Chrome/Edge 113+, Safari 26+, Firefox 141+) on a page served over https or from localhost.",
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new Error("gpu-cnn: navigator.gpu.requestAdapter() returned no adapter; WebGPU may be disabled.");
  return { adapter, source: "navigator.gpu" };
};

/** Replaces how the adapter is found (src/node.ts uses Dawn). Must run before the first op. */
export function setAdapterSource(source: () => Promise<AdapterSource>): void {
  adapterSource = source;
}

const PARAM_SLOT = 256; // bytes per dispatch's Params uniform; also the offset alignment
const SLOTS_PER_ARENA = 256;
/** Dispatches recorded before the batch is submitted on its own, to keep the GPU fed. */
export const MAX_DISPATCHES_PER_SUBMIT = 512;
const MAX_CACHED_BIND_GROUPS = 4096;

export interface Binding {
  buffer: GPUBuffer;
  /** byte offset and size of the bound range */
  offset: number;
  size: number;
}

/** A uniform buffer holding many dispatches' Params, written once at submit. */
interface ParamArena {
  buffer: GPUBuffer;
  bindGroup: GPUBindGroup;
  cpu: ArrayBuffer;
  used: number;
}

export class Gpu {
  readonly pool: BufferPool;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private opsInBatch = new Set<string>();
  private dispatchesInBatch = 0;
  private arenas: ParamArena[] = [];
  private freeArenas: ParamArena[] = [];
  private afterSubmit: GPUBuffer[] = [];
  private pendingErrors: Promise<void>[] = [];
  private lostMessage: string | null = null;
  private bindGroups = new Map<string, GPUBindGroup>();
  private bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 0;
  private uncaptured: string | null = null;
  /** Queue submissions so far (tests check that steps are not split needlessly). */
  submissions = 0;
  /** Dispatches recorded so far. */
  dispatches = 0;
  private profiler: Profiler | null = null;
  /** Kernels compiling ahead of first use on a helper device (lavapipe; src/warmup.ts). */
  warmUp: WarmUp | null = null;

  private constructor(
    readonly device: GPUDevice,
    readonly info: GpuInfo,
    readonly kernels: Kernels,
  ) {
    this.pool = new BufferPool(device, info.maxBufferSize);
    const align = device.limits.minStorageBufferOffsetAlignment;
    this.maxBindingBytes = Math.floor(device.limits.maxStorageBufferBindingSize / align) * align;
    // every subgroup matmul variant must have compiled (else the plain kernels run throughout)
    this.subgroupKernels = [8, 16, 32].every((rows) => ["nn", "nt", "tn"].every((layout) => kernels.has(`matmul_sg${rows}_${layout}`)));
    device.lost.then((lost) => {
      this.lostMessage = `${lost.reason}: ${lost.message}`;
    });
    device.addEventListener("uncapturederror", (event) => {
      this.uncaptured ??= (event as GPUUncapturedErrorEvent).error.message;
    });
  }

  static async create(): Promise<Gpu> {
    const { adapter, source, another } = await adapterSource();
    // Ask for what the adapter really has, not WebGPU's defaults: the seed model's Dense kernel
    // alone is 202 MB, above the default 128 MiB buffer limit.
    const a = adapter.limits;
    const requiredLimits: Record<string, number> = {
      maxBufferSize: a.maxBufferSize,
      maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: a.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: a.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: a.maxComputeWorkgroupSizeY,
      maxComputeWorkgroupsPerDimension: a.maxComputeWorkgroupsPerDimension,
      maxStorageBuffersPerShaderStage: a.maxStorageBuffersPerShaderStage,
    };
    const features: GPUFeatureName[] = adapter.features.has("timestamp-query") ? ["timestamp-query"] : [];
    // The subgroup kernels assume teams of exactly 8 lanes (lavapipe's AVX2 vectors); elsewhere
    // the plain register-tiled kernels run.
    const info = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
    if (adapter.features.has("subgroups") && info?.subgroupMinSize === 8 && info?.subgroupMaxSize === 8) features.push("subgroups");
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures: features, label: "gpu-cnn" });
    const ai = adapter.info;
    const gpuInfo: GpuInfo = {
      vendor: ai?.vendor ?? "",
      architecture: ai?.architecture ?? "",
      device: ai?.device ?? "",
      description: ai?.description ?? "",
      source,
      maxBufferSize: device.limits.maxBufferSize,
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      software: false,
    };
    const names = [gpuInfo.vendor, gpuInfo.architecture, gpuInfo.device, gpuInfo.description].join(" ");
    gpuInfo.software = /llvmpipe|lavapipe|swiftshader/i.test(names) || !!(ai as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter;
    const kernels = await compileKernels(device);
    const gpu = new Gpu(device, gpuInfo, kernels);
    // lavapipe compiles at first dispatch: give the slowest kernels a head start elsewhere
    if (another && /llvmpipe|lavapipe/i.test(names)) gpu.warmUp = warmUpKernels(another, features, WARM_UP_KERNELS);
    return gpu;
  }

  /**
   * Largest byte range one storage binding may cover, aligned for offsets. Ops split bigger
   * tensors into chunks of this size. Tests lower it to exercise the chunked paths cheaply.
   */
  maxBindingBytes = 0;

  /**
   * Whether ops use the subgroup kernels (compiled where subgroups are 8 lanes wide). Tests
   * turn it off to exercise the plain kernels on the same device.
   */
  subgroupKernels = false;

  /** Offsets of bindings must be multiples of this many bytes. */
  get bindingAlignment(): number {
    return this.device.limits.minStorageBufferOffsetAlignment;
  }

  get maxWorkgroupsPerDimension(): number {
    return this.device.limits.maxComputeWorkgroupsPerDimension;
  }

  get isLost(): boolean {
    return this.lostMessage !== null;
  }

  private checkAlive(op: string): void {
    if (this.lostMessage) throw new Error(`gpu-cnn: the GPU device was lost (${this.lostMessage}); cannot run ${op}.`);
  }

  private computePass(kernel: string): GPUComputePassEncoder {
    this.encoder ??= this.device.createCommandEncoder({ label: "gpu-cnn batch" });
    if (this.profiler) {
      // profiling: one pass per dispatch, so each kernel gets its own begin/end timestamps
      if (this.pass) this.pass.end();
      this.pass = this.encoder.beginComputePass({ timestampWrites: this.profiler.slot(kernel) });
    }
    this.pass ??= this.encoder.beginComputePass();
    return this.pass;
  }

  private copyEncoder(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.encoder ??= this.device.createCommandEncoder({ label: "gpu-cnn batch" });
    return this.encoder;
  }

  private paramSlot(params: ArrayBuffer): { arena: ParamArena; offset: number } {
    if (params.byteLength > PARAM_SLOT) throw new Error(`gpu-cnn: Params of ${params.byteLength} bytes exceed ${PARAM_SLOT}`);
    let arena = this.arenas[this.arenas.length - 1];
    if (!arena || arena.used + PARAM_SLOT > arena.cpu.byteLength) {
      arena = this.freeArenas.pop() ?? this.newArena();
      arena.used = 0;
      this.arenas.push(arena);
    }
    const offset = arena.used;
    new Uint8Array(arena.cpu, offset, params.byteLength).set(new Uint8Array(params));
    arena.used += PARAM_SLOT;
    return { arena, offset };
  }

  private newArena(): ParamArena {
    const size = PARAM_SLOT * SLOTS_PER_ARENA;
    const buffer = this.device.createBuffer({ label: "gpu-cnn params", size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const bindGroup = this.device.createBindGroup({
      label: "gpu-cnn params",
      layout: this.kernels.paramsLayout,
      entries: [{ binding: 0, resource: { buffer, offset: 0, size: PARAM_SLOT } }],
    });
    return { buffer, bindGroup, cpu: new ArrayBuffer(size), used: 0 };
  }

  /**
   * Records one dispatch of a kernel. `bindings` are in the kernel's order: inputs, then outputs.
   * Nothing runs until the batch is submitted (on read-back, or every few hundred dispatches).
   */
  dispatch(kernel: string, bindings: Binding[], params: ArrayBuffer, workgroups: [number, number?, number?]): void {
    this.checkAlive(kernel);
    const k = this.kernels.get(kernel);
    if (bindings.length !== k.bindings) {
      throw new Error(`gpu-cnn: kernel ${kernel} takes ${k.bindings} buffers, got ${bindings.length}`);
    }
    const [x, y = 1, z = 1] = workgroups;
    const maxWg = this.maxWorkgroupsPerDimension;
    if (x > maxWg || y > maxWg || z > maxWg) {
      throw new Error(`gpu-cnn: kernel ${kernel} needs ${x}×${y}×${z} workgroups; this adapter allows ${maxWg} per dimension`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    const group = this.bindGroup(kernel, k.layout, bindings);
    const { arena, offset } = this.paramSlot(params);
    const pass = this.computePass(kernel);
    pass.setPipeline(k.pipeline);
    pass.setBindGroup(0, group);
    pass.setBindGroup(1, arena.bindGroup, [offset]);
    pass.dispatchWorkgroups(x, y, z);
    this.opsInBatch.add(kernel);
    this.dispatches++;
    if (++this.dispatchesInBatch >= MAX_DISPATCHES_PER_SUBMIT) this.submit();
  }

  /**
   * Bind groups are cached: a training step binds the same pooled buffers every step, and
   * creating one costs more than recording the dispatch. The cache is cleared when it grows
   * past a bound (keys of destroyed buffers can never match again).
   */
  private bindGroup(kernel: string, layout: GPUBindGroupLayout, bindings: Binding[]): GPUBindGroup {
    let key = kernel;
    for (const b of bindings) key += `|${this.bufferId(b.buffer)}:${b.offset}:${b.size}`;
    let group = this.bindGroups.get(key);
    if (!group) {
      if (this.bindGroups.size >= MAX_CACHED_BIND_GROUPS) this.bindGroups.clear();
      group = this.device.createBindGroup({
        label: kernel,
        layout,
        entries: bindings.map((b, i) => ({ binding: i, resource: { buffer: b.buffer, offset: b.offset, size: b.size } })),
      });
      this.bindGroups.set(key, group);
    }
    return group;
  }

  private bufferId(buffer: GPUBuffer): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) this.bufferIds.set(buffer, (id = this.nextBufferId++));
    return id;
  }

  /** Copies bytes between buffers, in order with the recorded dispatches. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.checkAlive("copy");
    this.copyEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
  }

  /** Zeroes bytes of a buffer, in order with the recorded dispatches (a memset on lavapipe). */
  clear(buffer: GPUBuffer, offset: number, size: number): void {
    this.checkAlive("clear");
    this.copyEncoder().clearBuffer(buffer, offset, size);
  }

  /** Uploads CPU data, ordered after every dispatch already recorded (via a staging buffer). */
  upload(dst: GPUBuffer, dstOffset: number, data: ArrayBufferView): void {
    this.checkAlive("upload");
    const size = data.byteLength;
    const padded = Math.ceil(size / 4) * 4;
    if (!this.encoder) {
      this.device.queue.writeBuffer(dst, dstOffset, data.buffer, data.byteOffset, size);
      return;
    }
    const staging = this.device.createBuffer({ label: "gpu-cnn upload", size: padded, usage: GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, size));
    staging.unmap();
    this.copy(staging, 0, dst, dstOffset, padded);
    this.afterSubmit.push(staging);
  }

  /** Submits everything recorded so far. Errors it causes are thrown by the next read-back. */
  submit(): void {
    if (!this.encoder) return;
    if (this.pass) this.pass.end();
    const ops = [...this.opsInBatch].join(", ");
    this.device.pushErrorScope("validation");
    this.device.pushErrorScope("out-of-memory");
    for (const arena of this.arenas) this.device.queue.writeBuffer(arena.buffer, 0, arena.cpu, 0, arena.used);
    this.profiler?.resolve(this.encoder);
    this.device.queue.submit([this.encoder.finish()]);
    this.profiler?.submitted();
    const oom = this.device.popErrorScope();
    const validation = this.device.popErrorScope();
    this.expect(
      Promise.all([oom, validation]).then(([o, v]) => {
        const error = o ?? v;
        if (error) throw new Error(`gpu-cnn: the GPU rejected work of op(s) [${ops}]: ${error.message}`);
      }),
    );
    this.submissions++;
    for (const b of this.afterSubmit) b.destroy();
    this.afterSubmit = [];
    this.freeArenas.push(...this.arenas);
    this.arenas = [];
    this.encoder = null;
    this.pass = null;
    this.opsInBatch.clear();
    this.dispatchesInBatch = 0;
  }

  /** Waits for all submitted work; throws if any of it failed or the device was lost. */
  async sync(): Promise<void> {
    this.submit();
    await this.device.queue.onSubmittedWorkDone();
    await this.checkErrors();
  }

  /** An error check the next sync or read-back throws from (marked handled until then, so Node does not report it first). */
  private expect(check: Promise<void>): void {
    check.catch(() => {});
    this.pendingErrors.push(check);
  }

  private async checkErrors(): Promise<void> {
    const pending = this.pendingErrors;
    this.pendingErrors = [];
    const rejected = (await Promise.allSettled(pending)).find((r) => r.status === "rejected");
    // an error outside any scope (creating a bind group) is usually what made the submission fail
    const uncaptured = this.uncaptured;
    this.uncaptured = null;
    if (rejected) {
      const message = (rejected.reason as Error).message;
      throw new Error(uncaptured ? `${message}\nThe GPU's first error: ${uncaptured}` : message);
    }
    this.checkAlive("read-back");
    if (uncaptured) throw new Error(`gpu-cnn: GPU error: ${uncaptured}`);
  }

  /** Reads bytes back to the CPU, after all recorded work. The only way data leaves the GPU. */
  async read(src: GPUBuffer, offset: number, size: number): Promise<ArrayBuffer> {
    const padded = Math.ceil(size / 4) * 4;
    const staging = this.device.createBuffer({ label: "gpu-cnn read-back", size: Math.max(padded, 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    if (padded > 0) this.copy(src, offset, staging, 0, padded);
    this.submit();
    try {
      await staging.mapAsync(GPUMapMode.READ);
      await this.checkErrors();
      return staging.getMappedRange().slice(0, size);
    } catch (e) {
      await this.checkErrors();
      this.checkAlive("read-back");
      throw e;
    } finally {
      staging.destroy();
    }
  }

  /**
   * Times every kernel dispatched until `stopProfile()` (needs the adapter's timestamp-query
   * feature). Each dispatch gets its own compute pass meanwhile, so profile, then measure.
   */
  startProfile(): void {
    if (!this.device.features.has("timestamp-query")) throw new Error("gpu-cnn: profiling needs the adapter's timestamp-query feature");
    this.submit();
    this.profiler = new Profiler(this.device);
  }

  /** Per-kernel dispatch counts and GPU milliseconds since `startProfile()`, slowest first. */
  async stopProfile(): Promise<KernelTime[]> {
    const profiler = this.profiler;
    if (!profiler) throw new Error("gpu-cnn: stopProfile() without startProfile()");
    this.submit();
    this.profiler = null;
    return profiler.totals();
  }

  /** Frees pooled buffers that no tensor holds (after submitting work that may use them). */
  trim(): void {
    this.submit();
    this.pool.trim();
  }

  destroy(): void {
    this.warmUp?.cancel();
    this.pool.destroyAll();
    this.device.destroy();
  }
}

let current: Promise<Gpu> | null = null;
let ready: Gpu | null = null;

/** The GPU, created on first use (adapter, device and a pipeline for every kernel, once). */
export function getGpu(): Promise<Gpu> {
  if (ready?.isLost) {
    // a lost device cannot recover: the next use starts a new one (its tensors are gone)
    current = null;
    ready = null;
  }
  current ??= Gpu.create().then(
    (gpu) => (ready = gpu),
    (e) => {
      current = null;
      throw e;
    },
  );
  return current;
}

/** The GPU, synchronously; throws if `await initGpu()` has not run yet. */
export function gpu(): Gpu {
  if (!ready) throw new Error("gpu-cnn: the GPU is not ready yet; `await initGpu()` before creating tensors or running ops.");
  return ready;
}

/**
 * Starts the device and creates every kernel's pipeline. Models and examples await it once.
 * (Software Vulkan may still compile a kernel's machine code at its first dispatch.)
 */
export async function initGpu(): Promise<GpuInfo> {
  return (await getGpu()).info;
}

/** What is running the kernels: the adapter's vendor, architecture, and how it was found. */
export async function gpuInfo(): Promise<GpuInfo> {
  return (await getGpu()).info;
}

/** Releases the device and its buffers so the process can exit; the next op starts a new one. */
export async function disposeGpu(): Promise<void> {
  if (!current) return;
  const g = await current;
  g.destroy();
  current = null;
  ready = null;
}

/** Describes the adapter in one line, for examples, benchmarks and logs. */
export function describeGpu(info: GpuInfo): string {
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(" ") || "unknown adapter";
  return `${name} via ${info.source} (max buffer ${(info.maxBufferSize / 2 ** 20).toFixed(0)} MiB, max binding ${(info.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB)`;
}

/** Times every kernel dispatched from now until `stopProfile()` (adapters with timestamp-query). */
export function startProfile(): void {
  gpu().startProfile();
}

/** Each kernel's dispatch count and GPU milliseconds since `startProfile()`, slowest first. */
export function stopProfile(): Promise<KernelTime[]> {
  return gpu().stopProfile();
}
