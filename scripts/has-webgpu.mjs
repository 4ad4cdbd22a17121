// Exits 0 when Dawn finds a WebGPU adapter here (a GPU, or an installed software driver).
import { create } from "webgpu";

const adapter = await create([]).requestAdapter();
process.exit(adapter ? 0 : 1);
