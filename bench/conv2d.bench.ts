// conv2d 3×3, valid and same, at the seed model's two input shapes: the forward pass and its two
// gradients (input and filter), each alone. No bias or activation: the convolution itself.
import type { Row } from "./harness.js";
import { lib, op, oursRunner, randomValues, size, upload } from "./ours.js";
import { matmulRow, matmulRowId, sameFlopsSide } from "./matmul.bench.js";
import { tfjsRunner, type Tf } from "./tfjs.js";

type Conv2d = (x: lib.Tensor, w: lib.Tensor, b: lib.Tensor | null, opts?: { padding?: "valid" | "same"; strides?: number }) => lib.Tensor;

// the seed model's first layer at both sizes, and the second layer of the classic two-block
// MNIST network (32 channels of 13x13 after pooling -> 64), the shape whose input gradient a
// deeper network needs
const CASES = [
  { input: [32, 28, 28, 1], filters: 32, paddings: ["valid", "same"] },
  { input: [8, 224, 224, 3], filters: 32, paddings: ["valid", "same"] },
  { input: [32, 13, 13, 32], filters: 64, paddings: ["valid"] },
] as const;
const KERNEL = 3;

export function conv2dOutShape(input: readonly number[], filters: number, padding: "valid" | "same"): number[] {
  const [n, h, w] = input;
  const cut = padding === "valid" ? KERNEL - 1 : 0;
  return [n, h - cut, w - cut, filters];
}

export const rows: Row[] = [];
/** Square matmuls with the FLOP counts of the conv rows, one per size, after the conv rows. */
const sameFlops = new Map<number, Row>();
for (const { input, filters, paddings } of CASES) {
  for (const padding of paddings) {
    for (const pass of ["fwd", "dinput", "dfilter"] as const) {
      const filterShape = [KERNEL, KERNEL, input[3], filters] as [number, number, number, number];
      const outShape = conv2dOutShape(input, filters, padding);
      // every pass multiplies-and-adds once per output pixel, filter tap and input channel
      const flops = 2 * size(outShape) * KERNEL * KERNEL * input[3];
      const seed = size(input) + filters;
      const xs = () => randomValues(size(input), seed);
      const ws = () => randomValues(size(filterShape), seed + 1, 0.5);
      const dys = () => randomValues(size(outShape), seed + 2);
      const passName = { fwd: "forward", dinput: "input gradient", dfilter: "filter gradient" }[pass];
      const side = sameFlopsSide(flops);
      if (!sameFlops.has(side)) sameFlops.set(side, matmulRow(side, `the FLOPs of conv2d ${input.slice(1, 3).join("×")} ${padding}`));
      rows.push({
        id: `conv2d_${input.join("x")}_k${KERNEL}x${KERNEL}x${filters}_${padding}_${pass}`,
        op: "conv2d",
        title: `conv2d ${input.join("×")}→${filters} 3×3 ${padding} ${passName}`,
        flops,
        sameFlopsMatmul: matmulRowId(side),
        async ours() {
          const conv2d = op<Conv2d>("conv2d");
          const x = upload(xs(), input, pass === "dinput");
          const w = upload(ws(), filterShape, pass === "dfilter");
          if (pass === "fwd") return oursRunner(() => conv2d(x, w, null, { padding }), [x, w]);
          const y = conv2d(x, w, null, { padding });
          const dy = upload(dys(), outShape);
          // backward() of a one-op graph runs just that op's gradient for the input that wants one
          return oursRunner(() => {
            const grads = lib.backward(y, dy);
            return grads.get(pass === "dinput" ? x : w)!;
          }, [x, w, y, dy]);
        },
        async tfjs(peer) {
          const { tf } = peer;
          const x = tf.tensor4d(xs(), [...input] as [number, number, number, number]);
          const w = tf.tensor4d(ws(), filterShape);
          if (pass === "fwd") return tfjsRunner(peer, () => tf.conv2d(x, w, 1, padding), [x, w]);
          const dy = tf.tensor(dys(), outShape);
          // the kernels tf.grad would run for conv2d, called directly
          const attrs = { strides: [1, 1], pad: padding, dataFormat: "NHWC" };
          const make =
            pass === "dinput"
              ? () => tf.engine().runKernel<Tf.Tensor>("Conv2DBackpropInput", { dy, filter: w }, { ...attrs, inputShape: [...input] })
              : () => tf.engine().runKernel<Tf.Tensor>("Conv2DBackpropFilter", { x, dy }, { ...attrs, filterShape });
          return tfjsRunner(peer, make, [x, w, dy]);
        },
      });
    }
  }
}
rows.push(...sameFlops.values());
