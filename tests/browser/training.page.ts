// Runs in headless Chromium: trains the parity model (the same code Node runs), saves it as
// TF.js artifacts in memory, and loads artifacts Node saved.
import { describeGpu, initGpu, loadModel, modelToArtifacts, type ModelArtifacts, type Sequential } from "../../src/index.js";
import { fromBase64, toBase64 } from "./page/kit.js";
import { parityModel, predictions, resume, trainParity, type Samples } from "./page/parity.js";

/** Artifacts as JSON: the weight bytes in base64. */
export interface ArtifactsJSON {
  fields: Omit<ModelArtifacts, "weightData">;
  weightData: string;
}

let trained: Sequential | null = null;

const page = {
  async start(): Promise<string> {
    return describeGpu(await initGpu());
  },

  /** Trains, predicts `test`, and saves the model in memory (TF.js ModelArtifacts). */
  async train(train: Samples, test: Samples): Promise<{ losses: number[]; probs: number[]; saved: ArtifactsJSON }> {
    trained = parityModel();
    const losses = await trainParity(trained, train);
    const probs = await predictions(trained, test);
    const { weightData, ...fields } = await modelToArtifacts(trained);
    return { losses, probs, saved: { fields, weightData: toBase64(new Uint8Array(weightData)) } };
  },

  /** Two more steps on the model trained above. */
  async resume(batch: Samples): Promise<number[]> {
    return resume(trained!, batch);
  },

  /** Loads artifacts saved elsewhere and predicts `test`. */
  async load(saved: ArtifactsJSON, test: Samples): Promise<number[]> {
    const model = await loadModel({ ...saved.fields, weightData: fromBase64(saved.weightData).buffer });
    const probs = await predictions(model, test);
    model.dispose();
    return probs;
  },
};
(window as unknown as { page: typeof page }).page = page;
