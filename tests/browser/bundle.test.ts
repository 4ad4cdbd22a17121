// The browser entry bundles for the browser platform with no Node built-in in its graph.
import { describe, expect, it } from "vitest";
import { bundle, root } from "./harness.js";

describe("browser build", () => {
  it("src/index.ts bundles for browsers without any Node built-in module", async () => {
    // esbuild's browser platform fails to resolve node:* / fs / stream imports, so this throws if one sneaks in
    const js = await bundle(`${root}/src/index.ts`);
    expect(js).not.toMatch(/\bfrom\s*["'](node:|fs|path|stream|util|zlib)["']/);
    expect(js).not.toMatch(/\bimport\(["'](node:|webgpu)/);
  });
});
