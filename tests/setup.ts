// Runs in every test file. All files share one process (one fork: one GPU device at a time), and
// each imports its own copy of the engine. Without this, every file's device, its lavapipe
// threads and its pooled buffers stayed alive to the end of the run: ~40 files in, at 4.5 GB and
// 240 threads, the process died (vitest: "Channel closed"). Now it stays near 1 GB.
import { afterAll } from "vitest";
import { disposeGpu } from "../src/device.js";

afterAll(async () => {
  await disposeGpu();
});
