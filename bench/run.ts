// The benchmark: every row of bench/*.bench.ts on gpu-cnn and on TensorFlow.js (webgpu on the
// same adapter in this process, wasm, cpu), one table on the terminal and bench/results.json.
//   npm run bench                      every row, every peer
//   npm run bench -- conv2d dense      rows whose id or title contains "conv2d" or "dense"
//   npm run bench -- --quick           gpu-cnn and tfjs-webgpu only (tfjs wasm and cpu skipped)
// Options: --runs N (fewest timed runs, default 5), --cap S (a run over S seconds is the only
// timed one, default 10), --peers tfjs-webgpu,tfjs-cpu (the tfjs backends to run), --markdown,
// --out FILE (default bench/results.json), --list (the rows and their ids).
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import * as adam from "./adam.bench.js";
import * as conv2d from "./conv2d.bench.js";
import * as dense from "./dense.bench.js";
import {
  CPU_PEERS,
  DEFAULT_SETTINGS,
  formatMs,
  formatOutcome,
  measure,
  NoResult,
  PEERS,
  rate,
  ratio,
  relativeError,
  table,
  type Measured,
  type Outcome,
  type Peer,
  type PeerName,
  type Row,
  type RowResult,
  type Runner,
  type Settings,
} from "./harness.js";
import * as matmul from "./matmul.bench.js";
import * as maxpool2d from "./maxpool2d.bench.js";
import { lib, ours, trimPool } from "./ours.js";
import * as softmaxCrossEntropy from "./softmaxCrossEntropy.bench.js";
import { describeAdapter, loadTfjs, packageVersions, useBackend, type TfjsSetup } from "./tfjs.js";
import * as trainStep from "./train-step.bench.js";

// Training steps first: their first-step rows must meet tfjs before any row compiled its shaders.
const ALL_ROWS: Row[] = [trainStep, conv2d, maxpool2d, dense, matmul, softmaxCrossEntropy, adam].flatMap((m) => m.rows);

interface Options {
  filters: string[];
  quick: boolean;
  peers: PeerName[];
  markdown: boolean;
  list: boolean;
  out: string;
  settings: Settings;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    filters: [],
    quick: false,
    peers: [...PEERS],
    markdown: false,
    list: false,
    out: fileURLToPath(new URL("./results.json", import.meta.url)),
    settings: { ...DEFAULT_SETTINGS },
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${a} needs a value`);
      return v;
    };
    if (a === "--quick") o.quick = true;
    else if (a === "--markdown") o.markdown = true;
    else if (a === "--list") o.list = true;
    else if (a === "--runs") o.settings.runs = Math.max(1, Number(value()));
    else if (a === "--cap") o.settings.capMs = Number(value()) * 1000;
    else if (a === "--out") o.out = value();
    else if (a === "--peers") {
      const names = value().split(",");
      for (const n of names) if (!PEERS.includes(n as PeerName)) throw new Error(`bench: unknown peer ${n}; peers are ${PEERS.join(", ")}`);
      o.peers = PEERS.filter((p) => p === "gpu-cnn" || names.includes(p));
    } else if (a === "--help" || a === "-h") {
      const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
      console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith("//"))).map((l) => l.replace(/^\/\/ ?/, "")).join("\n"));
      process.exit(0);
    } else if (a.startsWith("--")) throw new Error(`bench: unknown option ${a} (see --help)`);
    else o.filters.push(a.toLowerCase());
  }
  return o;
}

function selected(row: Row, filters: string[]): boolean {
  if (!filters.length) return true;
  const text = `${row.id} ${row.title} ${row.op}`.toLowerCase();
  return filters.some((f) => text.includes(f));
}

/** An error as the cell's outcome: a missing tfjs kernel is "cannot", anything else "fails". */
function outcomeOf(e: unknown): Outcome {
  if (e instanceof NoResult) return { status: e.status, reason: e.reason };
  const message = String((e as Error)?.message ?? e);
  const kernel = /Kernel '(\w+)' not registered|'(\w+)' not yet implemented/.exec(message);
  if (kernel) return { status: "cannot", reason: `no ${kernel[1] ?? kernel[2]} kernel` };
  const line = message.split("\n")[0].replace(/^gpu-cnn: /, "");
  return { status: "fails", reason: line.length > 160 ? `${line.slice(0, 157)}...` : line };
}

/** Sets up, measures and frees one cell; keeps the output when the row has one to compare. */
async function cell(row: Row, peer: Peer, setup: () => Promise<Runner>, settings: Settings): Promise<{ outcome: Outcome; output?: Float32Array }> {
  let runner: Runner | null = null;
  try {
    runner = await setup();
    await peer.finish(); // uploads and setup work are not timed
    const outcome = await measure(runner, peer, row, settings);
    if (runner.note) outcome.note = outcome.note ? `${runner.note}; ${outcome.note}` : runner.note;
    let output: Float32Array | undefined;
    if (runner.result) {
      try {
        output = await runner.result();
      } catch {
        // the comparison is a bonus; the timing stands
      }
    }
    return { outcome, output };
  } catch (e) {
    return { outcome: outcomeOf(e) };
  } finally {
    try {
      runner?.dispose();
    } catch {
      // a failed device may refuse; nothing more to free
    }
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const picked = ALL_ROWS.filter((r) => selected(r, opts.filters));
  // a conv row brings the matmul row it is compared with
  const wanted = new Set(picked.flatMap((r) => [r.id, r.sameFlopsMatmul ?? r.id]));
  const rows = ALL_ROWS.filter((r) => wanted.has(r.id));
  if (opts.list) {
    for (const r of ALL_ROWS) console.log(`${selected(r, opts.filters) ? "*" : " "} ${r.id.padEnd(56)} ${r.title}`);
    return;
  }
  if (!rows.length) throw new Error(`bench: no row matches ${opts.filters.join(", ")} (see --list)`);

  const initStart = performance.now();
  const info = await lib.initGpu();
  const gpuCnnInitMs = performance.now() - initStart;
  const adapter = lib.describeGpu(info);
  console.log(`gpu-cnn adapter: ${adapter}`);
  console.log(`gpu-cnn device start, a pipeline for every kernel: ${formatMs(gpuCnnInitMs)}${process.env.MESA_SHADER_CACHE_DISABLE ? " (Mesa's shader cache off: first dispatches compile cold)" : ""}`);

  const tfjsWanted = opts.peers.filter((p) => p !== "gpu-cnn" && !(opts.quick && CPU_PEERS.includes(p)));
  let tfjs: TfjsSetup | null = null;
  if (tfjsWanted.length) {
    tfjs = await loadTfjs(tfjsWanted);
    const a = tfjs.adapter;
    const theirs = a ? describeAdapter(a) : "none (tfjs-webgpu did not start)";
    const same = a && a.vendor === info.vendor && a.architecture === info.architecture && a.device === info.device && a.description === info.description;
    if (tfjsWanted.includes("tfjs-webgpu")) console.log(`tfjs-webgpu adapter: ${theirs}${a ? (same ? " (the same adapter)" : "  ← NOT the same adapter") : ""}`);
    for (const [name, p] of Object.entries(tfjs.peers)) if (p && "unavailable" in p) console.log(`${name} unavailable: ${p.unavailable}`);
  }
  console.log(`${rows.length} row(s); ${opts.settings.runs}+ timed runs after warm-up; cap ${opts.settings.capMs / 1000} s${opts.quick ? "; --quick: tfjs wasm and cpu skipped" : ""}\n`);

  const results: RowResult[] = [];
  for (const row of rows) {
    const outcomes: RowResult["outcomes"] = {};
    const outputs: Partial<Record<PeerName, Float32Array>> = {};
    for (const name of opts.peers) {
      let outcome: Outcome;
      if (name === "gpu-cnn") {
        const r = await cell(row, ours, () => row.ours(), opts.settings);
        outcome = r.outcome;
        outputs[name] = r.output;
        trimPool();
      } else if (opts.quick && CPU_PEERS.includes(name)) {
        outcome = { status: "skipped", reason: "--quick" };
      } else {
        const peer = tfjs?.peers[name];
        if (!peer || "unavailable" in peer) {
          outcome = { status: "cannot", reason: peer ? peer.unavailable : "backend not loaded" };
        } else {
          await useBackend(peer);
          peer.clearErrors();
          const r = await cell(row, peer, () => row.tfjs(peer), opts.settings);
          outcome = r.outcome;
          outputs[name] = r.output;
        }
      }
      outcomes[name] = outcome;
      const vs = name === "gpu-cnn" ? "" : ratio(outcomes["gpu-cnn"], outcome);
      process.stderr.write(`  ${row.id} · ${name}: ${formatOutcome(outcome)}${vs ? ` (${vs.toFixed(2)}× gpu-cnn's time)` : ""}\n`);
    }
    const result: RowResult = { row, outcomes };
    const against = (["tfjs-webgpu", "tfjs-wasm", "tfjs-cpu"] as const).find((p) => outputs[p]);
    if (outputs["gpu-cnn"] && against) result.check = { against, relativeError: relativeError(outputs["gpu-cnn"], outputs[against]!) };
    results.push(result);
  }

  console.log("");
  // peers skipped on every row (--quick) get no columns
  const shown = opts.peers.filter((p) => results.some((r) => r.outcomes[p]?.status !== "skipped"));
  console.log(table(results, shown, opts.markdown));
  console.log(
    "\ntimes: median [min–max] of the timed runs, each ending with the device idle; ÷: tfjs time / gpu-cnn time" +
      " (above 1: gpu-cnn faster); check: relative L2 error of gpu-cnn's output against tfjs'.",
  );
  const versus = sameFlopsComparisons(results);
  if (versus.length) {
    console.log("\ngpu-cnn's rate against its matmul at the same FLOP count (issue 6: conv2d within 2×):");
    for (const v of versus) console.log(`  ${v.title}: ${v.rate.toPrecision(3)} GF/s, matmul ${v.matmulSide}³ ${v.matmulRate.toPrecision(3)} GF/s → ${v.fraction.toFixed(2)} of it${v.fraction >= 0.5 ? "" : "  ← NOT within 2×"}`);
  }
  writeResults(opts, results, { adapter, info, gpuCnnInitMs, tfjs }, versus);
  await lib.disposeGpu();
}

interface SameFlops {
  id: string;
  title: string;
  rate: number;
  matmulId: string;
  matmulSide: number;
  matmulRate: number;
  /** The row's GFLOP/s over the matmul's: at least 0.5 meets "within 2×". */
  fraction: number;
}

/** gpu-cnn's rate on each row that names a same-FLOP matmul row, against that row's. */
function sameFlopsComparisons(results: RowResult[]): SameFlops[] {
  const byId = new Map(results.map((r) => [r.row.id, r]));
  const out: SameFlops[] = [];
  for (const { row, outcomes } of results) {
    const mm = row.sameFlopsMatmul ? byId.get(row.sameFlopsMatmul) : undefined;
    const ours = outcomes["gpu-cnn"];
    const theirs = mm?.outcomes["gpu-cnn"];
    if (!mm || ours?.status !== "ok" || theirs?.status !== "ok") continue;
    const rateOf = (r: Row, o: Measured) => rate(r, o.medianMs)!.value;
    const rowRate = rateOf(row, ours);
    const matmulRate = rateOf(mm.row, theirs);
    out.push({ id: row.id, title: row.title, rate: rowRate, matmulId: mm.row.id, matmulSide: Math.round(Math.cbrt(mm.row.flops! / 2)), matmulRate, fraction: rowRate / matmulRate });
  }
  return out;
}

function writeResults(opts: Options, results: RowResult[], env: { adapter: string; info: lib.GpuInfo; gpuCnnInitMs: number; tfjs: TfjsSetup | null }, versus: SameFlops[]): void {
  const date = new Date().toISOString();
  const rowJson = results.map(({ row, outcomes, check }) => ({
    id: row.id,
    op: row.op,
    title: row.title,
    ...(row.flops ? { flops: row.flops } : {}),
    ...(row.bytes ? { bytes: row.bytes } : {}),
    ...(row.images ? { images: row.images } : {}),
    kind: row.kind ?? "warm",
    date,
    outcomes: Object.fromEntries(
      Object.entries(outcomes).map(([peer, o]) => {
        if (o.status !== "ok") return [peer, o];
        const r = rate(row, o.medianMs);
        const vs = peer === "gpu-cnn" ? null : ratio(outcomes["gpu-cnn"], o);
        return [peer, { ...o, runs: o.timesMs.length, ...(r ? { rate: r } : {}), ...(vs !== null ? { ratioToGpuCnn: vs } : {}) }];
      }),
    ),
    ...(check ? { check } : {}),
    ...((v) => (v ? { sameFlopsMatmul: { id: v.matmulId, rate: v.matmulRate, fraction: v.fraction } } : {}))(versus.find((v) => v.id === row.id)),
  }));
  let previous: { adapter?: string; rows?: { id: string }[] } = {};
  if (existsSync(opts.out)) {
    try {
      previous = JSON.parse(readFileSync(opts.out, "utf8"));
    } catch {
      previous = {};
    }
  }
  // a filtered run updates its rows and keeps the others measured on the same adapter
  const ran = new Set(rowJson.map((r) => r.id));
  const kept = previous.adapter === env.adapter ? (previous.rows ?? []).filter((r) => !ran.has(r.id)) : [];
  if (previous.adapter && previous.adapter !== env.adapter) console.log(`(${opts.out} held results from another adapter: replaced; use --out to keep both)`);
  const order = new Map(ALL_ROWS.map((r, i) => [r.id, i]));
  const allRows = [...kept, ...rowJson].sort((a, b) => (order.get(a.id) ?? 1e9) - (order.get(b.id) ?? 1e9));
  const cpu = cpus();
  const json = {
    date,
    command: `bench ${process.argv.slice(2).join(" ")}`.trim(),
    adapter: env.adapter,
    gpu: env.info,
    tfjsAdapter: env.tfjs?.adapter ? describeAdapter(env.tfjs.adapter) : null,
    machine: { cpus: cpu.length, cpuModel: cpu[0]?.model ?? "", memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${process.platform} ${process.arch}`, VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? null },
    versions: {
      node: process.versions.node,
      ...packageVersions(["webgpu", "@tensorflow/tfjs", "@tensorflow/tfjs-backend-webgpu", "@tensorflow/tfjs-backend-wasm", "tsx"]),
      "gpu-cnn": (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version,
    },
    settings: { ...opts.settings, quick: opts.quick, peers: opts.peers },
    gpuCnnInitMs: env.gpuCnnInitMs,
    rows: allRows,
  };
  const tmp = `${opts.out}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(json, null, 2)}\n`);
  renameSync(tmp, opts.out);
  console.log(`\nwrote ${opts.out} (${allRows.length} rows${kept.length ? `, ${kept.length} kept from an earlier run` : ""})`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
