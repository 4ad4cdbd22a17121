// The only file that knows about Node: WebGPU comes from Dawn (the `webgpu` package). On a
// machine without a GPU driver, it tries the software Vulkan drivers it knows (lavapipe first,
// it is multi-threaded; then SwiftShader) before giving up with what it tried and the fix.
import { existsSync } from "node:fs";
import { setAdapterSource, type AdapterSource } from "./device.js";

type Dawn = typeof import("webgpu");

/** Environment variable naming a Vulkan ICD json to use, e.g. a driver installed elsewhere. */
export const ICD_ENV = "GPU_CNN_VK_ICD";

const SOFTWARE_ICDS = [
  "/usr/share/vulkan/icd.d/lvp_icd.json",
  "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json",
  "/usr/share/vulkan/icd.d/lvp_icd.aarch64.json",
  "/usr/lib/chromium/vk_swiftshader_icd.json",
  "/usr/lib/chromium-browser/vk_swiftshader_icd.json",
  "/opt/google/chrome/vk_swiftshader_icd.json",
];

/**
 * One Dawn instance per driver and flags, kept for the life of the process (Dawn's devices depend
 * on theirs) and shared by every device: a new device after disposeGpu() or a lost device no
 * longer leaves another instance, with its driver threads, behind.
 */
const instances = new Map<string, GPU>();

function dawnInstance(dawn: Dawn, flags: string[]): GPU {
  const key = `${process.env.VK_ICD_FILENAMES ?? ""}|${flags.join(" ")}`;
  let gpu = instances.get(key);
  if (!gpu) {
    gpu = dawn.create(flags);
    instances.set(key, gpu);
  }
  return gpu;
}

/**
 * Dawn's instance flags. WebGPU zero-fills a buffer before its first use; Dawn does it lazily,
 * as a clear before the first pass that binds it. The engine never relies on that: its buffer
 * pool hands out used buffers, so every kernel writes all it later reads (the tests run once with
 * fresh buffers filled with non-zero bytes, GPU_CNN_DAWN_FLAGS below). On lavapipe the clear is a
 * single-threaded memset that also takes the page faults of fresh memory: the 224x224 seed
 * model's first step (1 GB of new buffers) ran 0.13 s faster without it (bench medians, 2.05 ->
 * 1.92 s). Browsers keep their zero-fill; this is Dawn's.
 */
const DAWN_FLAGS = ["disable-dawn-features=lazy_clear_resource_on_first_use"];
/** Extra Dawn flags, space-separated (tests: enable-dawn-features=nonzero_clear_resources_on_creation_for_testing). */
export const DAWN_FLAGS_ENV = "GPU_CNN_DAWN_FLAGS";

async function tryAdapter(dawn: Dawn): Promise<{ adapter: GPUAdapter; another: () => Promise<GPUAdapter | null> } | null> {
  const extra = process.env[DAWN_FLAGS_ENV]?.split(/\s+/).filter(Boolean) ?? [];
  const gpu = dawnInstance(dawn, [...DAWN_FLAGS, ...extra]);
  const options: GPURequestAdapterOptions = { powerPreference: "high-performance" };
  const adapter = await gpu.requestAdapter(options);
  return adapter && { adapter, another: () => gpu.requestAdapter(options) };
}

/**
 * While any of its promises is pending (a read-back, onSubmittedWorkDone), Dawn's Node binding
 * polls for GPU events by rescheduling itself with setImmediate: a busy loop on the main thread.
 * On a software adapter that loop takes a core from the driver's worker threads (measured on 2
 * cores: the 28x28 training step used ~85 ms of CPU with it, ~57 ms without, and a 1-3 ms kernel
 * ran up to 2x slower while it spun). So each of Dawn's polls (native callbacks; JavaScript code
 * keeps the real setImmediate) first blocks the thread for NAP_MS (Atomics.wait: no CPU), which
 * delays a finished wait by at most that. setTimeout(0) in its place waited ~1 ms a poll: a
 * 1.5 ms op took 4 ms to come back, not 2.7. Spinning for the first 2 ms of each wait, as this
 * did before, made matmul 184^3 2.4 ms against 1.75 (lavapipe, interleaved runs).
 */
const NAP_MS = 0.1;
const nap = new Int32Array(new SharedArrayBuffer(4));

function throttleDawnPolling(): void {
  const immediate = globalThis.setImmediate as typeof setImmediate & { gpuCnnThrottled?: true };
  if (immediate.gpuCnnThrottled) return;
  const toString = Function.prototype.toString;
  const throttled = ((callback: (...args: unknown[]) => void, ...args: unknown[]) => {
    const dawnPoll = typeof callback === "function" && callback.name === "" && toString.call(callback).includes("[native code]");
    if (dawnPoll) Atomics.wait(nap, 0, 0, NAP_MS);
    return immediate(callback, ...args);
  }) as typeof setImmediate & { gpuCnnThrottled?: true };
  // keep what util.promisify(setImmediate) looks for
  for (const key of Object.getOwnPropertySymbols(immediate)) Object.defineProperty(throttled, key, Object.getOwnPropertyDescriptor(immediate, key)!);
  throttled.gpuCnnThrottled = true;
  globalThis.setImmediate = throttled;
}

async function nodeAdapter(): Promise<AdapterSource> {
  // A dynamic import: `webgpu` is ESM-only, and this way the CommonJS build can load it too.
  const dawn: Dawn = await import("webgpu");
  throttleDawnPolling();
  // GPUBufferUsage, GPUMapMode, ... as in a browser
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  process.env.XDG_RUNTIME_DIR ??= "/tmp"; // Mesa warns without it
  const tried: string[] = [];
  const chosen = process.env[ICD_ENV];
  if (chosen) {
    process.env.VK_ICD_FILENAMES = chosen;
    const found = await tryAdapter(dawn);
    if (found) return { ...found, source: `Dawn (${ICD_ENV}=${chosen})` };
    tried.push(`${ICD_ENV}=${chosen}`);
  } else {
    const found = await tryAdapter(dawn);
    const icd = process.env.VK_ICD_FILENAMES;
    if (found) return { ...found, source: icd ? `Dawn (VK_ICD_FILENAMES=${icd})` : "Dawn (system Vulkan drivers)" };
    tried.push(icd ? `VK_ICD_FILENAMES=${icd}` : "the system's GPU drivers");
  }
  for (const icd of SOFTWARE_ICDS) {
    if (!existsSync(icd)) continue;
    process.env.VK_ICD_FILENAMES = icd;
    const found = await tryAdapter(dawn);
    if (found) return { ...found, source: `Dawn (software Vulkan: ${icd})` };
    tried.push(icd);
  }
  throw new Error(
    `gpu-cnn: no WebGPU adapter found in Node. Tried: ${tried.join("; ")}; and looked for software drivers at ` +
      `${SOFTWARE_ICDS.join(", ")}. Fix: install a GPU driver with Vulkan, or on Debian run ` +
      `scripts/setup-software-gpu.sh (Mesa lavapipe from bookworm-backports), or set ${ICD_ENV} to a Vulkan ICD json.`,
  );
}

/** Makes the device come from Dawn. Called once by the Node entry (src/index.node.ts). */
export function useDawn(): void {
  setAdapterSource(nodeAdapter);
}
