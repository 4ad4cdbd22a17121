// The data scripts' shared command line (scripts/script-args.ts): `--flag value` options read as
// strings or numbers, --help, and main() run only when the file is the program.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scriptArgs } from "../../scripts/script-args.js";

const root = mkdtempSync(join(tmpdir(), "gpu-cnn-script-args-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tsx = (...args: string[]): string => execFileSync(process.execPath, ["--import", "tsx", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("scriptArgs", () => {
  it("reads the value after a flag, as a string or a number; absent flags are undefined", () => {
    const args = scriptArgs(["--out", "data/x", "--size", "16", "--seed", "abc"]);
    expect(args.help).toBe(false);
    expect(args.string("--out")).toBe("data/x");
    expect(args.number("--size")).toBe(16);
    expect(args.number("--seed")).toBeNaN(); // the script's own range checks report it
    expect(args.string("--limit")).toBeUndefined();
    expect(args.number("--limit")).toBeUndefined();
    expect(scriptArgs(["--out", "x", "--help"]).help).toBe(true);
    // npm scripts pass their default first: `npm run data:shapes -- --out elsewhere` must win
    expect(scriptArgs(["--out", "data/shapes", "--per-class", "10", "--out", "data/other"]).string("--out")).toBe("data/other");
  });

  it("make-shapes and write-mnist-images run main() as programs: --help, options, a failure exits 1 with its message", () => {
    expect(tsx("scripts/make-shapes.ts", "--help")).toMatch(/^usage: make-shapes --out <dir>/);
    expect(tsx("scripts/write-mnist-images.ts", "--help")).toMatch(/^usage: write-mnist-images --out <dir>/);
    const out = join(root, "shapes");
    expect(tsx("scripts/make-shapes.ts", "--out", out, "--per-class", "2", "--size", "8", "--seed", "4")).toContain(`wrote 6 images (circle, square, triangle) to ${out}`);
    expect(readdirSync(join(out, "circle"))).toHaveLength(2);
    let failure: { status: number; stderr: string } | null = null;
    try {
      tsx("scripts/make-shapes.ts", "--out", out, "--size", "4");
    } catch (e) {
      failure = e as { status: number; stderr: string };
    }
    expect(failure?.status).toBe(1);
    expect(failure?.stderr.trim()).toBe("make-shapes: --size must be an integer of at least 8, got 4");
  });
});
