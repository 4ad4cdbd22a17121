// Node module hooks that import .wgsl files as strings, as the build does: lets tsx run the
// TypeScript sources directly (`node --import tsx --import ./scripts/wgsl.mjs file.ts`).
import { readFile } from "node:fs/promises";

export async function load(url, context, nextLoad) {
  if (!url.endsWith(".wgsl")) return nextLoad(url, context);
  const source = await readFile(new URL(url), "utf8");
  return { format: "module", source: `export default ${JSON.stringify(source)};`, shortCircuit: true };
}
