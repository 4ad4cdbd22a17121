// Run by atomic.test.ts in its own process: saves a model into argv[2] and stops for good at the
// save point argv[3], reporting "paused", so the test can kill it there as a crash would.
import { saveHooks } from "../../src/io/files.node.js";
import { Conv2D, Dense, Flatten, saveModel, Sequential } from "../../src/index.node.js";

const [dir, point] = process.argv.slice(2) as [string, "afterWeights" | "afterMoveOld"];
const model = new Sequential({ seed: 99 });
model.add(new Conv2D(4, [3, 3], { inputShape: [12, 12, 1], activation: "relu" }));
model.add(new Flatten());
model.add(new Dense(3, { activation: "softmax" }));
saveHooks[point] = () => {
  process.stdout.write("paused\n");
  return new Promise<void>(() => {});
};
await saveModel(model, dir);
