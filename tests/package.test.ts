// The published package works from a separate project: build, `npm pack`, install the tarball
// into a temporary project, then import it (ESM and CommonJS) and run an op on the GPU.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(__dirname, "..");
const work = mkdtempSync(join(tmpdir(), "gpu-cnn-pack-"));
const sh = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, XDG_RUNTIME_DIR: "/tmp" } });

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("npm package", () => {
  it("packs, installs into another project and runs there (ESM and CommonJS)", () => {
    sh("npm", ["run", "build"], root);
    sh("npm", ["pack", "--pack-destination", work], root);
    const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"))!;
    const project = join(work, "consumer");
    sh("mkdir", ["-p", project], work);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", join(work, tarball)], project);
    const program = (load: string) => `${load}
      (async () => {
        await initGpu();
        const x = tensor([[-1, 2], [3, -4]]);
        const y = await ops.relu(x).data();
        console.log(JSON.stringify({ y: Array.from(y), adapter: describeGpu(await gpuInfo()) }));
        await disposeGpu();
      })();`;
    writeFileSync(join(project, "esm.mjs"), program(`import { initGpu, tensor, ops, gpuInfo, describeGpu, disposeGpu } from "gpu-cnn";`));
    writeFileSync(join(project, "cjs.cjs"), program(`const { initGpu, tensor, ops, gpuInfo, describeGpu, disposeGpu } = require("gpu-cnn");`));
    for (const file of ["esm.mjs", "cjs.cjs"]) {
      const out = JSON.parse(sh("node", [file], project).trim().split("\n").pop()!);
      expect(out.y, file).toEqual([0, 2, 3, 0]);
      expect(out.adapter, file).toMatch(/via Dawn/);
    }
  });
});
