// tensor(): what it takes (nested numbers, typed arrays of any kind) and what it refuses, with the
// reason; reshape() and dispose() on the values it made.
import { describe, expect, it } from "vitest";
import { tensor } from "../src/index.node.js";
import { useGpu } from "./helpers.js";

useGpu();

describe("tensor()", () => {
  it("infers the shape of nested arrays, and reads any typed array as float32", async () => {
    const nested = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(nested.shape).toEqual([2, 3]);
    expect(Array.from(await nested.data())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(await tensor(new Uint8Array([0, 128, 255]), [3, 1]).data())).toEqual([0, 128, 255]);
    expect(Array.from(await tensor(new Int32Array([-2, 7]), [2]).data())).toEqual([-2, 7]);
    expect(Array.from(await tensor(new Float64Array([0.5, 0.1]), [2]).data())).toEqual([0.5, Math.fround(0.1)]);
    expect(tensor(new Float32Array(0), [0, 3]).shape).toEqual([0, 3]);
  });

  it("keeps NaN and infinities as they are (fit and evaluate check their inputs; ops do not)", async () => {
    expect(Array.from(await tensor([NaN, Infinity, -1]).data())).toEqual([NaN, Infinity, -1]);
  });

  it("refuses ragged arrays, non-numbers, a shape the values do not fill, and -1 or fractional sizes", () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(/tensor\(\): nested arrays are ragged/);
    expect(() => tensor(["a", "b"] as never)).toThrow(/tensor\(\): expected numbers or arrays, got string/);
    expect(() => tensor(new Float32Array(10), [3, 4])).toThrow(/tensor\(\): 10 values do not fill shape \[3, 4\] \(12 values\)/);
    expect(() => tensor(new Float32Array(6), [2, -1])).toThrow(/tensor\(\): shape \[2, -1\] must list sizes that are integers >= 0 \(no -1 here: give every size, or reshape\(\) afterwards\)/);
    expect(() => tensor(new Float32Array(6), [2, 1.5, 2])).toThrow(/shape \[2, 1.5, 2\] must list sizes that are integers >= 0/);
  });

  it("reshape() shares the values, infers one -1, and names both shapes when they differ in size", async () => {
    const x = tensor([1, 2, 3, 4, 5, 6]);
    const y = x.reshape([3, -1]);
    expect(y.shape).toEqual([3, 2]);
    expect(Array.from(await y.data())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => x.reshape([4, 2])).toThrow(/reshape cannot turn \[6\] \(6 values\) into \[4, 2\] \(8 values\)/);
  });

  it("a disposed tensor says so when read or reshaped; disposing twice is safe", async () => {
    const x = tensor([1, 2]);
    x.dispose();
    x.dispose();
    expect(x.isDisposed).toBe(true);
    await expect(x.data()).rejects.toThrow(/\[2\] was disposed and cannot be read/);
    expect(() => x.reshape([2, 1])).toThrow(/\[2\] was disposed/);
  });
});
