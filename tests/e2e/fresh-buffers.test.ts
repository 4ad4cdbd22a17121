// The engine must never read a buffer it has not written: Node's device turns off Dawn's
// zero-fill of new buffers (src/node.ts, a single-threaded memset on lavapipe), and the buffer
// pool hands out used ones anyway. Here the same seeded training runs twice in child processes,
// once with every new buffer filled with 0x01 bytes instead of zeros: every number must match.
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

function train(dawnFlags: string): { history: Record<string, number[]>; predictions: number[]; freshWord: number } {
  const out = execFileSync(process.execPath, ["--import", "tsx", "--import", resolve(__dirname, "../../scripts/wgsl.mjs"), resolve(__dirname, "fresh-buffers.child.ts")], {
    encoding: "utf8",
    env: { ...process.env, GPU_CNN_DAWN_FLAGS: dawnFlags },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 120_000, // a hung child fails the test instead of the run
  });
  const line = out.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error(`the child printed no result:\n${out}`);
  return JSON.parse(line.slice("RESULT ".length));
}

describe("buffers nobody wrote", () => {
  it("change nothing: training on non-zero fresh buffers gives the same numbers", () => {
    const plain = train("");
    const dirty = train("enable-dawn-features=nonzero_clear_resources_on_creation_for_testing");
    // the flag took effect (else this test could not fail)
    expect(dirty.freshWord).toBe(0x01010101);
    expect(plain.history.loss.every(Number.isFinite)).toBe(true);
    expect(plain.predictions.every(Number.isFinite)).toBe(true);
    expect(dirty.history).toEqual(plain.history);
    expect(dirty.predictions).toEqual(plain.predictions);
  });
});
