// Exact tiny graphs: fan-out sums gradients, views pass them through, noGrad records nothing,
// and deep graphs do not overflow the stack.
import { describe, expect, it } from "vitest";
import { backward, noGrad, ops, tensor } from "../../src/index.node.js";
import { useGpu } from "../helpers.js";

useGpu();

const values = async (t: { data(): Promise<Float32Array> } | null) => Array.from(await t!.data());

describe("autograd", () => {
  it("sums gradients where a tensor is used twice (fan-out)", async () => {
    const x = tensor([-1, 2, -3, 4]);
    x.requiresGrad = true;
    const y = ops.relu(x);
    const loss = ops.sum(ops.add(y, y));
    backward(loss);
    expect(await values(x.grad)).toEqual([0, 2, 0, 2]);
  });

  it("diamond: two paths from one input", async () => {
    const x = tensor([1, 2, 3]);
    x.requiresGrad = true;
    const loss = ops.sum(ops.add(ops.scale(x, 2), ops.scale(x, 3)));
    const grads = backward(loss);
    expect(await values(grads.get(x)!)).toEqual([5, 5, 5]);
    expect(await values(loss)).toEqual([30]);
  });

  it("passes gradients through reshape views", async () => {
    const x = tensor([[1, -2], [3, -4]]);
    x.requiresGrad = true;
    const loss = ops.sum(ops.relu(x.reshape([4])));
    backward(loss);
    expect(x.grad!.shape).toEqual([2, 2]);
    expect(await values(x.grad)).toEqual([1, 0, 1, 0]);
  });

  it("only tensors with requiresGrad get gradients; the incoming gradient scales them", async () => {
    const x = tensor([1, 2]);
    const w = tensor([3, 4]);
    w.requiresGrad = true;
    const y = ops.add(x, w);
    const grads = backward(y, tensor([10, 20]));
    expect([...grads.keys()]).toEqual([w]);
    expect(x.grad).toBeNull();
    expect(await values(w.grad)).toEqual([10, 20]);
  });

  it("noGrad records nothing, and backward then says why it cannot run", () => {
    const x = tensor([1, 2]);
    x.requiresGrad = true;
    const y = noGrad(() => ops.relu(x));
    expect(y.node).toBeNull();
    expect(() => backward(y)).toThrow(/does not depend on any tensor with requiresGrad/);
  });

  it("walks a deep graph without recursion", async () => {
    const x = tensor([1]);
    x.requiresGrad = true;
    let y = x;
    for (let i = 0; i < 3000; i++) y = ops.scale(y, 1);
    backward(ops.sum(y));
    expect(await values(x.grad)).toEqual([1]);
  });
});
