// The device: adapter discovery and reporting, limits, and errors that name the op.
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { gpu } from "../src/device.js";
import { describeGpu, gpuInfo, initGpu, memory, ops, startProfile, stopProfile, tensor } from "../src/index.node.js";
import { WARM_UP_KERNELS, warmUpKernels } from "../src/warmup.js";
import { useGpu } from "./helpers.js";

useGpu();

describe("device", () => {
  it("reports the adapter and asks for the adapter's own limits", async () => {
    const info = await gpuInfo();
    expect(describeGpu(info)).toMatch(/via Dawn/);
    // the seed model's 202 MB Dense kernel needs more than WebGPU's default 256 MiB? no: 128 MiB binding
    expect(info.maxBufferSize).toBeGreaterThan(256 * 2 ** 20);
    expect(gpu().device.limits.maxBufferSize).toBe(info.maxBufferSize);
  });

  it("compiles every kernel (ops would quietly fall back past one that failed)", async () => {
    await initGpu();
    expect(Object.fromEntries(gpu().kernels.failures())).toEqual({});
  });

  it("throttles only Dawn's own event polling: JavaScript setImmediate callbacks run as before", async () => {
    await initGpu();
    expect((globalThis.setImmediate as { gpuCnnThrottled?: boolean }).gpuCnnThrottled).toBe(true);
    const order: string[] = [];
    await new Promise<void>((done) => {
      setTimeout(() => order.push("timeout"), 5);
      setImmediate((tag: string) => order.push(tag), "immediate");
      setTimeout(() => done(), 20);
    });
    expect(order).toEqual(["immediate", "timeout"]);
    const { promisify } = await import("node:util");
    await promisify(setImmediate)();
    // a GPU read-back (Dawn polls while it waits) still resolves, with the right values
    const y = ops.relu(tensor(Float32Array.from([-1, 2, -3, 4, 5]), [5]));
    expect([...(await y.data())]).toEqual([0, 2, 0, 4, 5]);
  });

  it("on lavapipe (which compiles at first dispatch), a helper device compiles the slowest kernels ahead", async () => {
    await initGpu();
    const g = gpu();
    // elsewhere there is nothing to warm up
    if (!/llvmpipe|lavapipe/i.test(describeGpu(g.info))) return void expect(g.warmUp).toBeNull();
    expect(g.warmUp).not.toBeNull();
    await g.warmUp!.done;
  }, 120_000);

  it("the warm-up list runs to completion on zero-filled Params (no kernel loops forever)", async () => {
    await initGpu();
    const g = gpu();
    // a second device of the same driver, as the engine's helper; the probe skipped so that the
    // whole list runs even where Mesa's cache is warm (a hang would time out here)
    const dawn = await import("webgpu");
    const instance = dawn.create([]);
    let asked = false;
    const warmUp = warmUpKernels(async () => ((asked = true), instance.requestAdapter()), [...g.device.features] as GPUFeatureName[], WARM_UP_KERNELS, null);
    await warmUp.done;
    expect(asked).toBe(true);
    const y = ops.relu(tensor(Float32Array.from([-1, 2]), [2]));
    expect([...(await y.data())]).toEqual([0, 2]);
  }, 120_000);

  it("profiles kernels: each one's dispatches and GPU time, slowest first", async () => {
    await initGpu();
    const a = tensor(Float32Array.from({ length: 64 * 64 }, (_, i) => i % 7), [64, 64]);
    startProfile();
    const c = ops.relu(ops.matmul(a, a));
    await c.data();
    const times = await stopProfile();
    const names = times.map((t) => t.kernel);
    expect(names.some((n) => n.startsWith("matmul"))).toBe(true);
    expect(names).toContain("relu_fwd");
    for (const t of times) {
      expect(t.dispatches).toBeGreaterThan(0);
      expect(t.ms).toBeGreaterThanOrEqual(0);
    }
    expect(times.map((t) => t.ms)).toEqual([...times.map((t) => t.ms)].sort((x, y) => y - x));
    await expect(stopProfile()).rejects.toThrow(/without startProfile/);
  });

  it("finds a software Vulkan driver by itself when the configured one is missing", () => {
    const script = `import("${resolve(__dirname, "../src/index.node.ts")}").then(async (m) => console.log("ADAPTER " + m.describeGpu(await m.initGpu())))`;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--import", resolve(__dirname, "../scripts/wgsl.mjs"), "-e", script], {
      encoding: "utf8",
      env: { ...process.env, VK_ICD_FILENAMES: "/nonexistent/icd.json", GPU_CNN_VK_ICD: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(out).toMatch(/ADAPTER .*software Vulkan: \/.*\.json/);
  });

  it("names the tensor, its size and the limit when a tensor exceeds maxBufferSize", () => {
    const max = gpu().device.limits.maxBufferSize;
    const rows = Math.ceil(max / 4 / 1024) + 1;
    expect(() => ops.fill([rows, 1024], 0)).toThrow(
      new RegExp(`output of fill \\[${rows}, 1024\\] needs [0-9.]+ MiB, but this adapter's largest buffer \\(maxBufferSize\\) is`),
    );
  });

  it("turns a GPU validation error into a thrown Error naming the op", async () => {
    const x = tensor([1, 2, 3, 4]);
    const y = ops.relu(x);
    await y.data();
    // bind more bytes than the buffer holds: WebGPU rejects the bind group
    gpu().dispatch("relu_fwd", [{ buffer: x.buffer, offset: 0, size: 1 << 20 }, y.binding()], new ArrayBuffer(16), [1]);
    await expect(y.data()).rejects.toThrow(/relu_fwd/);
    // and the device keeps working afterwards
    expect(Array.from(await ops.relu(tensor([-1, 5])).data())).toEqual([0, 5]);
  });

  it("a rejected submission waits for the next read-back: no unhandled rejection while the program awaits something else", async () => {
    const x = tensor([1, 2, 3, 4]);
    const y = ops.relu(x);
    await y.data();
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", listener);
    try {
      gpu().dispatch("relu_fwd", [{ buffer: x.buffer, offset: 0, size: 1 << 20 }, y.binding()], new ArrayBuffer(16), [1]);
      gpu().submit();
      // a timer (a data loader, a UI) while Dawn resolves the submission's error scope
      await new Promise((r) => setTimeout(r, 200));
      expect(unhandled).toEqual([]);
      // with the error that caused it (the bind group's, raised outside any error scope)
      await expect(gpu().sync()).rejects.toThrow(/the GPU rejected work of op\(s\) \[relu_fwd\][^]*\nThe GPU's first error: Binding size \(1048576\) is larger than/);
      expect(Array.from(await ops.relu(tensor([-1, 5])).data())).toEqual([0, 5]); // nothing left over
    } finally {
      process.off("unhandledRejection", listener);
    }
  });

  it("records many dispatches into one submission until something is read", async () => {
    await ops.sum(tensor([1])).data();
    const before = memory().submissions;
    let x = tensor(new Float32Array(1000).fill(-1));
    for (let i = 0; i < 50; i++) x = ops.relu(ops.add(x, x));
    expect(memory().submissions).toBe(before);
    expect((await x.data())[0]).toBe(0);
    expect(memory().submissions).toBe(before + 1);
  });

  it("a lost device throws a clear error, and the next initGpu() starts a new one", async () => {
    const x = tensor([1, 2]);
    await x.data();
    gpu().device.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(() => ops.relu(ops.fill([2], 1))).toThrow(/device was lost/);
    await initGpu();
    expect(Array.from(await ops.relu(tensor([-2, 2])).data())).toEqual([0, 2]);
  });
});
