// matmul 1024³: the kernel every dense layer and the GFLOP/s targets are measured against.
import type { Row } from "./harness.js";
import { lib, op, oursRunner, randomValues, upload } from "./ours.js";
import { tfjsRunner } from "./tfjs.js";

type Matmul = (a: lib.Tensor, b: lib.Tensor) => lib.Tensor;

const N = 1024;
const as = () => randomValues(N * N, 11);
const bs = () => randomValues(N * N, 12);

export const rows: Row[] = [
  {
    id: `matmul_${N}x${N}x${N}`,
    op: "matmul",
    title: `matmul ${N}³`,
    flops: 2 * N ** 3,
    async ours() {
      const matmul = op<Matmul>("matmul");
      const a = upload(as(), [N, N]);
      const b = upload(bs(), [N, N]);
      return oursRunner(() => matmul(a, b), [a, b]);
    },
    async tfjs(peer) {
      const { tf } = peer;
      const a = tf.tensor2d(as(), [N, N]);
      const b = tf.tensor2d(bs(), [N, N]);
      return tfjsRunner(peer, () => tf.matMul(a, b), [a, b]);
    },
  },
];
