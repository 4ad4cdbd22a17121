// TensorFlow.js as the peer, in this process: its WebGPU backend on its own Dawn instance (made
// after gpu-cnn found its adapter, so the same VK_ICD_FILENAMES picks the same driver), plus
// wasm and cpu. See /work/shared/notes/tfjs-peer-in-node.md for what was checked.
import { readFileSync } from "node:fs";
import { create, globals } from "webgpu";
import type { PeerName, TfjsPeer } from "./harness.js";

import type * as Tf from "@tensorflow/tfjs";

export type { Tf };

export interface TfjsSetup {
  tf: typeof Tf;
  /** The adapter tfjs' WebGPU backend asked Dawn for, if it started. */
  adapter: AdapterDescription | null;
  peers: Partial<Record<PeerName, TfjsPeer | { unavailable: string }>>;
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export function describeAdapter(a: AdapterDescription): string {
  return [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(" ") || "unknown adapter";
}

/** tfjs' backends by peer name. */
const BACKENDS = { "tfjs-webgpu": "webgpu", "tfjs-wasm": "wasm", "tfjs-cpu": "cpu" } as const;

/**
 * Loads @tensorflow/tfjs with the backends asked for. Must run after gpu-cnn's device exists.
 * WebGPU errors tfjs does not catch itself (it pushes no error scopes) are collected and
 * reported by finish(), so a rejected command fails the measurement instead of timing nothing.
 */
export async function loadTfjs(wanted: PeerName[]): Promise<TfjsSetup> {
  let adapter: AdapterDescription | null = null;
  let device: GPUDevice | null = null;
  const errors: string[] = [];
  if (wanted.includes("tfjs-webgpu")) {
    for (const [name, value] of Object.entries(globals)) {
      if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
    }
    const dawn = create([]);
    // tfjs calls navigator.gpu.requestAdapter once; this records which adapter it got.
    const gpu = {
      async requestAdapter(options?: GPURequestAdapterOptions) {
        const a = await dawn.requestAdapter(options);
        if (a) {
          const i = a.info;
          adapter = { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description };
          const requestDevice = a.requestDevice.bind(a);
          a.requestDevice = async (descriptor?: GPUDeviceDescriptor) => {
            device = await requestDevice(descriptor);
            device.addEventListener("uncapturederror", (e) => {
              errors.push((e as GPUUncapturedErrorEvent).error.message);
              e.preventDefault(); // reported by the cell, not printed once per rejected command
            });
            return device;
          };
        }
        return a;
      },
      getPreferredCanvasFormat: () => "rgba8unorm",
      get wgslLanguageFeatures() {
        return dawn.wgslLanguageFeatures;
      },
    };
    const nav = (globalThis as { navigator?: object }).navigator ?? {};
    Object.defineProperty(globalThis, "navigator", { value: Object.assign(Object.create(nav), { gpu }), configurable: true, writable: true });
  }
  const tf: typeof Tf = await import("@tensorflow/tfjs");
  if (wanted.includes("tfjs-webgpu")) await import("@tensorflow/tfjs-backend-webgpu");
  if (wanted.includes("tfjs-wasm")) await import("@tensorflow/tfjs-backend-wasm");
  tf.enableProdMode(); // no per-op NaN or shape debugging checks: tfjs at its fastest

  const peers: TfjsSetup["peers"] = {};
  for (const name of wanted) {
    if (!(name in BACKENDS)) continue;
    const backend = BACKENDS[name as keyof typeof BACKENDS];
    try {
      if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend("${backend}") returned false`);
      await tf.ready();
    } catch (e) {
      peers[name] = { unavailable: (e as Error).message.split("\n")[0] };
      continue;
    }
    const finish =
      backend === "webgpu"
        ? async () => {
            // tfjs batches commands into an open pass and encoder; submit them (as its own read
            // does), then wait for the queue to drain
            const b = tf.findBackend("webgpu") as unknown as { commandEncoder: GPUCommandEncoder | null; endComputePassEncoder(): void; submitQueue(): void };
            if (b.commandEncoder) {
              b.endComputePassEncoder();
              b.submitQueue();
            }
            await device!.queue.onSubmittedWorkDone();
            if (errors.length) {
              const first = errors[0];
              errors.length = 0;
              throw new Error(`GPU error: ${first.split("\n")[0]}`);
            }
          }
        : async () => {}; // cpu and wasm kernels are synchronous: the work is done on return
    peers[name] = { name, backend, tf, finish, clearErrors: () => void (errors.length = 0) };
  }
  return { tf, adapter, peers };
}

/** Switches tfjs to the peer's backend; tensors must be made after this. */
export async function useBackend(peer: TfjsPeer): Promise<void> {
  if (peer.tf.getBackend() !== peer.backend) await peer.tf.setBackend(peer.backend);
}

/** Installed versions, from each package's package.json ("not installed" when absent). */
export function packageVersions(names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    try {
      const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
      out[name] = (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
    } catch {
      out[name] = "not installed";
    }
  }
  return out;
}

type TfTensor = Tf.Tensor;

/** A runner for a tfjs op: `make` runs inside tf.tidy; the last output is kept for the cross-check. */
export function tfjsRunner(peer: TfjsPeer, make: () => TfTensor | TfTensor[], inputs: TfTensor[] = []): import("./harness.js").Runner {
  const { tf } = peer;
  let last: TfTensor | TfTensor[] | null = null;
  const dispose = () => {
    if (last) tf.dispose(last);
    last = null;
  };
  return {
    run() {
      dispose();
      last = tf.tidy(make);
    },
    async result() {
      const t = Array.isArray(last) ? last[0] : last!;
      return (await t.data()) as Float32Array;
    },
    dispose() {
      dispose();
      tf.dispose(inputs);
    },
  };
}
