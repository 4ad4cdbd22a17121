// Compiles the slowest kernels ahead of their first use, on a second device, where the driver
// compiles lazily. lavapipe (llvmpipe) turns a pipeline into machine code at its first dispatch,
// on the device's queue thread, and shares the result with every device of the process (and
// Mesa's on-disk cache with later processes). On a machine's first run the unrolled subgroup
// kernels take 1-2 s each there, one after another: the 28x28 seed model's first step took
// 7.5-9.4 s. A helper device dispatching them once, on a thread of its own, compiles them
// alongside the first step's own compiles (two 1.5 s kernels took 3.0 s on two devices, 4.5 s
// on one; the first step 5.5-6.7 s).
import { compileKernels, type KernelName, type Kernels } from "./kernels.js";

/**
 * The seed model's backward kernels, slowest first: its first step compiles its forward kernels
 * itself meanwhile (a helper compiling those too would only duplicate the work). Each runs safely
 * on zero-filled Params: every loop bound is then zero, and robust buffer access drops the
 * stores out of range (tests/device.test.ts runs the list to completion).
 */
export const WARM_UP_KERNELS: readonly KernelName[] = [
  "matmul_sg32_tn",
  "matmul_sg32_nt",
  "conv2d_bwd_filter_img1",
  "maxpool2d_bwd_tile_vec4_2x2",
  "sum_rows_vec4",
  "adam",
  "relu_bwd",
  "sum_rows",
  "softmax_xent_bwd",
  "guard",
];

/** A warm-up in progress: `done` settles when it ends; `cancel()` ends it now (device disposal). */
export interface WarmUp {
  done: Promise<void>;
  cancel(): void;
}

/**
 * The probe: a small kernel (cheap to create) that every training step ends with. If Mesa's cache
 * has it, a step has run on this machine before and the kernels above are cached too.
 */
const PROBE: KernelName = "guard";
/** A first dispatch faster than this found its kernel compiled already. */
const CACHED_MS = 20;

/**
 * Compiles `names` on a device of the adapter `helper()` gives, unless the probe finds Mesa's
 * cache warm (then the warm-up costs a device and one tiny pipeline; `probe: null` skips the
 * check). Every failure just ends it.
 */
export function warmUpKernels(
  helper: () => Promise<GPUAdapter | null>,
  requiredFeatures: GPUFeatureName[],
  names: readonly KernelName[],
  probe: KernelName | null = PROBE,
): WarmUp {
  let device: GPUDevice | null = null;
  let cancelled = false;
  const done = (async () => {
    try {
      const adapter = await helper();
      if (!adapter || cancelled) return;
      device = await adapter.requestDevice({ requiredFeatures, label: "gpu-cnn warm-up" });
      // its own errors stay its own (a validation error would otherwise print on stderr)
      device.pushErrorScope("validation");
      if (probe) {
        const kernels = await compileKernels(device, [probe]);
        const start = performance.now();
        await dispatchOnce(device, kernels, [probe]);
        if (cancelled || performance.now() - start < CACHED_MS) return;
      }
      await dispatchOnce(device, await compileKernels(device, names), names);
      await device.popErrorScope();
    } catch {
      // only ever a head start: the kernels compile at their first use regardless
    } finally {
      device?.destroy();
    }
  })();
  return {
    done,
    cancel() {
      cancelled = true;
      device?.destroy();
    },
  };
}

/** Dispatches each kernel once (one workgroup, zero-filled Params) and waits for the queue. */
async function dispatchOnce(device: GPUDevice, kernels: Kernels, names: readonly KernelName[]): Promise<void> {
  const params = device.createBuffer({ size: 256, usage: GPUBufferUsage.UNIFORM });
  const paramsGroup = device.createBindGroup({ layout: kernels.paramsLayout, entries: [{ binding: 0, resource: { buffer: params, size: 256 } }] });
  const scratch: GPUBuffer[] = [];
  for (const name of names) {
    if (!kernels.has(name)) continue;
    const { pipeline, layout, bindings } = kernels.get(name);
    // a small buffer per binding (a buffer cannot be both read-only and writable in a pass)
    while (scratch.length < bindings) scratch.push(device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE }));
    const entries = scratch.slice(0, bindings).map((buffer, binding) => ({ binding, resource: { buffer } }));
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout, entries }));
    pass.setBindGroup(1, paramsGroup, [0]);
    pass.dispatchWorkgroups(1);
    pass.end();
    // one submission each: the queue compiles them in this order
    device.queue.submit([encoder.finish()]);
  }
  await device.queue.onSubmittedWorkDone();
}
