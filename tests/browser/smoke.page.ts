// Runs in the browser page: the library's browser entry on navigator.gpu.
import { describeGpu, initGpu, ops, tensor } from "../../src/index.js";

(window as unknown as { run: () => Promise<unknown> }).run = async () => {
  const info = await initGpu();
  const y = await ops.relu(tensor([-1, 2, -3, 4])).data();
  return { adapter: describeGpu(info), y: Array.from(y) };
};
