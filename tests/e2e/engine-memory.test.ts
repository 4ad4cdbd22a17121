// 200 training-like steps built from ops (forward, backward, Adam), each step in tidy():
// live GPU bytes and the pool stay flat, and work is submitted only when read or when a batch
// of dispatches fills up (never once per op).
import { describe, expect, it } from "vitest";
import { backward, memory, ops, tensor, tidy, type Tensor } from "../../src/index.node.js";
import { MAX_DISPATCHES_PER_SUBMIT } from "../../src/device.js";
import { Random, testSeed, useGpu } from "../helpers.js";

useGpu();

describe("engine memory", () => {
  it("200 steps: bytes in use and allocated stay flat; no submission per op", async () => {
    const random = new Random(testSeed("engine-memory"));
    const param = (shape: number[], scale: number) => {
      const t = tensor(Float32Array.from(random.array(shape.reduce((a, b) => a * b, 1), -scale, scale)), shape);
      t.requiresGrad = true;
      return t;
    };
    const weights = [param([3, 3, 1, 4], 0.5), param([4], 0), param([36, 10], 0.3), param([10], 0)];
    const state = weights.map((w) => ({ m: ops.zeros(w.shape), v: ops.zeros(w.shape) }));
    const status = ops.zeros([1]);
    const x = tensor(Float32Array.from(random.array(8 * 14 * 14)), [8, 14, 14, 1]);
    const y = tensor(Float32Array.from(random.oneHot(8, 10)), [8, 10]);

    const step = (i: number): Tensor =>
      tidy(() => {
        const [k, b, w, c] = weights;
        const h = ops.maxPool2d(ops.conv2d(x, k, b, { activation: "relu", strides: 2 }), { poolSize: 2 });
        const logits = ops.dense(h.reshape([8, 36]), w, c);
        const loss = ops.softmaxCrossEntropy(logits, y);
        const grads = backward(loss);
        ops.guard(loss, status);
        weights.forEach((p, j) => ops.adamUpdate(p, grads.get(p)!, state[j].m, state[j].v, status, { step: i + 1, learningRate: 0.01 }));
        return loss;
      });

    const losses: number[] = [];
    let inUseAfterWarmup = 0;
    let allocatedAfterWarmup = 0;
    const start = memory();
    let reads = 0;
    for (let i = 0; i < 200; i++) {
      const loss = step(i);
      if (i % 20 === 0 || i === 199) {
        losses.push((await loss.data())[0]);
        reads++;
      }
      loss.dispose();
      if (i === 10) ({ bytesInUse: inUseAfterWarmup, bytesAllocated: allocatedAfterWarmup } = memory());
      if (i > 10) {
        expect(memory().bytesInUse, `bytes in use grew at step ${i}`).toBe(inUseAfterWarmup);
        expect(memory().bytesAllocated, `the pool grew at step ${i}`).toBe(allocatedAfterWarmup);
      }
    }
    const end = memory();
    const full = Math.floor((end.dispatches - start.dispatches) / MAX_DISPATCHES_PER_SUBMIT);
    expect(end.submissions - start.submissions).toBeLessThanOrEqual(reads + full);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
  });
});
