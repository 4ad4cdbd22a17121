// Adam on 50.5 million parameters (the 224 seed model's Dense kernel, [394272×128]): one update
// of weight, m and v. Memory-bound: the rate counts 4 tensors read and 3 written.
import type { Row } from "./harness.js";
import { lib, op, randomValues, upload } from "./ours.js";

type AdamUpdate = (param: lib.Tensor, grad: lib.Tensor, m: lib.Tensor, v: lib.Tensor, status: lib.Tensor, options: { step: number }) => void;

const SHAPE = [394272, 128];
const COUNT = SHAPE[0] * SHAPE[1];
const weights = () => randomValues(COUNT, 21, 0.01);
const gradients = () => randomValues(COUNT, 22, 0.01);

export const rows: Row[] = [
  {
    id: `adam_${COUNT}`,
    op: "adam",
    title: `adam update, ${(COUNT / 1e6).toFixed(1)}M parameters`,
    bytes: 7 * 4 * COUNT,
    async ours() {
      const adamUpdate = op<AdamUpdate>("adamUpdate");
      const zeros = op<(shape: number[]) => lib.Tensor>("zeros");
      const param = upload(weights(), SHAPE);
      const grad = upload(gradients(), SHAPE);
      const m = zeros(SHAPE);
      const v = zeros(SHAPE);
      const status = zeros([1]); // 0: the loss was finite, updates apply
      let step = 0;
      return {
        run: () => adamUpdate(param, grad, m, v, status, { step: ++step }),
        dispose: () => [param, grad, m, v, status].forEach((t) => t.dispose()),
      };
    },
    async tfjs(peer) {
      const { tf } = peer;
      const param = tf.variable(tf.tensor2d(weights(), SHAPE as [number, number]));
      const grad = tf.tensor2d(gradients(), SHAPE as [number, number]);
      const optimizer = tf.train.adam(0.001, 0.9, 0.999, 1e-7);
      return {
        run() {
          optimizer.applyGradients([{ name: param.name, tensor: grad }]);
        },
        dispose() {
          optimizer.dispose();
          param.dispose();
          grad.dispose();
        },
      };
    },
  },
];

