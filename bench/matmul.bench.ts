// matmul n³: 1024³, the kernel every dense layer and the GFLOP/s target are measured against, and
// the sizes whose FLOP count matches a conv2d row (issue 6 compares conv2d's rate with matmul's
// "at the same FLOP count": a 2-8 ms op pays the same fixed costs whichever kernel runs it).
import type { Row } from "./harness.js";
import { lib, op, oursRunner, randomValues, upload } from "./ours.js";
import { tfjsRunner } from "./tfjs.js";

type Matmul = (a: lib.Tensor, b: lib.Tensor) => lib.Tensor;

/** The side of the square matmul (a multiple of 8) whose 2n³ FLOPs come nearest `flops`. */
export const sameFlopsSide = (flops: number): number => Math.max(8, Math.round(Math.cbrt(flops / 2) / 8) * 8);
export const matmulRowId = (n: number): string => `matmul_${n}x${n}x${n}`;

/** The n³ row; `why` names what its FLOP count matches, for the title. */
export function matmulRow(n: number, why = ""): Row {
  const as = () => randomValues(n * n, 11);
  const bs = () => randomValues(n * n, 12);
  return {
    id: matmulRowId(n),
    op: "matmul",
    title: `matmul ${n}³${why ? ` (${why})` : ""}`,
    flops: 2 * n ** 3,
    async ours() {
      const matmul = op<Matmul>("matmul");
      const a = upload(as(), [n, n]);
      const b = upload(bs(), [n, n]);
      return oursRunner(() => matmul(a, b), [a, b]);
    },
    async tfjs(peer) {
      const { tf } = peer;
      const a = tf.tensor2d(as(), [n, n]);
      const b = tf.tensor2d(bs(), [n, n]);
      return tfjsRunner(peer, () => tf.matMul(a, b), [a, b]);
    },
  };
}

export const rows: Row[] = [matmulRow(1024)];
