// What every benchmark row shares: the row and runner contracts, the timing protocol, outcomes
// that say why a cell has no number ("n/a", "cannot", "fails", "skipped"), and the table.

export type PeerName = "gpu-cnn" | "tfjs-webgpu" | "tfjs-wasm" | "tfjs-cpu";
export const PEERS: readonly PeerName[] = ["gpu-cnn", "tfjs-webgpu", "tfjs-wasm", "tfjs-cpu"];
/** The peers that compute on the CPU: no shader compile, so their first run is already warm. */
export const CPU_PEERS: readonly PeerName[] = ["tfjs-wasm", "tfjs-cpu"];

/** One prepared measurement: `run` does the timed work (the harness then waits for the device). */
export interface Runner {
  run(): Promise<unknown> | unknown;
  /** The main output after the runs, to compare the peers (pure ops only). */
  result?(): Promise<Float32Array>;
  /** How the row ran, when there is more than one way (kept in results.json). */
  note?: string;
  dispose(): void;
}

/** The engine under test, as one row sees it: tfjs rows get the tf namespace and a backend. */
export interface Peer {
  name: PeerName;
  /** Ends the timed call: waits until the device has done all the work submitted so far. */
  finish(): Promise<void>;
}

export interface Row {
  /** Stable identifier carrying the shapes, e.g. conv2d_32x28x28x1_k3x3x32_valid_fwd. */
  id: string;
  /** The op family, as in src/ops/<op>.ts. */
  op: string;
  /** What the row measures, for the table. */
  title: string;
  /** Floating-point operations per run: the table shows GFLOP/s. */
  flops?: number;
  /** Bytes read and written per run (memory-bound rows): the table shows GB/s. */
  bytes?: number;
  /** Images per run (training steps): the table shows images/s. */
  images?: number;
  /** The id of the matmul row with (nearly) this row's FLOP count: the summary compares rates. */
  sameFlopsMatmul?: string;
  /** "first-step": one cold run of a freshly built model (pipeline compile latency). */
  kind?: "warm" | "first-step";
  ours(): Promise<Runner>;
  tfjs(peer: TfjsPeer): Promise<Runner>;
}

/** What tfjs rows receive; the tf namespace is the one package shared by all backends. */
export interface TfjsPeer extends Peer {
  backend: "webgpu" | "wasm" | "cpu";
  tf: typeof import("@tensorflow/tfjs");
  /** Forgets device errors left by an earlier row. */
  clearErrors(): void;
}

export type Status = "ok" | "n/a" | "cannot" | "fails" | "skipped";

/** Why a cell has no number: thrown from a row's setup or run. */
export class NoResult extends Error {
  constructor(
    readonly status: Exclude<Status, "ok">,
    readonly reason: string,
  ) {
    super(`${status} (${reason})`);
  }
}

export const missing = (what: string): NoResult => new NoResult("n/a", `op missing: ${what}`);
export const cannot = (why: string): NoResult => new NoResult("cannot", why);
export const fails = (why: string): NoResult => new NoResult("fails", why);

export interface Measured {
  status: "ok";
  /** Timed runs after the warm-up(s), in ms. */
  timesMs: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** The first (untimed for the statistics) run: includes pipeline compiles. */
  warmupMs: number;
  note?: string;
}

export type Outcome = Measured | { status: Exclude<Status, "ok">; reason: string };

export interface Settings {
  /** Fewest timed runs (more are taken for fast rows, until minTotalMs has passed). */
  runs: number;
  maxRuns: number;
  minTotalMs: number;
  /** A warm-up longer than this gets one timed run only (CPU peers: the warm-up itself). */
  capMs: number;
}

export const DEFAULT_SETTINGS: Settings = { runs: 5, maxRuns: 30, minTotalMs: 500, capMs: 10_000 };

const now = (): number => performance.now();

async function timed(runner: Runner, peer: Peer): Promise<number> {
  const start = now();
  await runner.run();
  await peer.finish();
  return now() - start;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Warm-up, then at least `runs` timed runs (each ends with the device idle), more for fast rows.
 * A first-step row times one cold run. A timed run over the cap is the only one; on a CPU peer a
 * warm-up over the cap is itself that run (nothing compiles there), so a 60 s step is not paid twice.
 */
export async function measure(runner: Runner, peer: Peer, row: Row, settings: Settings): Promise<Measured> {
  const warmupMs = await timed(runner, peer);
  const result = (timesMs: number[], note?: string): Measured => ({
    status: "ok",
    timesMs,
    medianMs: median(timesMs),
    minMs: Math.min(...timesMs),
    maxMs: Math.max(...timesMs),
    warmupMs,
    ...(note ? { note } : {}),
  });
  if (row.kind === "first-step") return result([warmupMs], "one cold run");
  if (warmupMs > settings.capMs && CPU_PEERS.includes(peer.name)) return result([warmupMs], "over the cap: the warm-up is the only run");
  // a second warm-up for quick rows: the first may still allocate buffers or fill caches
  if (warmupMs < 1000) await timed(runner, peer);
  const times: number[] = [];
  let total = 0;
  while (times.length < settings.maxRuns && (times.length < settings.runs || total < settings.minTotalMs)) {
    const t = await timed(runner, peer);
    times.push(t);
    total += t;
    if (times.length === 1 && t > settings.capMs) return result(times, "over the cap: one run");
  }
  return result(times);
}

/** Relative L2 error of `got` against `want`. */
export function relativeError(got: Float32Array, want: Float32Array): number {
  if (got.length !== want.length) return Infinity;
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < got.length; i++) {
    const d = got[i] - want[i];
    diff += d * d;
    norm += want[i] * want[i];
  }
  if (!Number.isFinite(diff)) return Infinity;
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
}

// ---------------------------------------------------------------------------------------------
// formatting

/** A time in the unit that suits `scaleMs` (so a min and max print in their median's unit). */
export function formatMs(ms: number, scaleMs = ms, withUnit = true): string {
  const seconds = scaleMs >= 1000;
  const v = seconds ? ms / 1000 : ms;
  const s = seconds ? v.toFixed(v >= 10 ? 1 : 2) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
  return withUnit ? `${s} ${seconds ? "s" : "ms"}` : s;
}

function formatRange(m: Measured): string {
  if (m.timesMs.length === 1) return `${formatMs(m.medianMs)} (1 run)`;
  return `${formatMs(m.medianMs)} [${formatMs(m.minMs, m.medianMs, false)}–${formatMs(m.maxMs, m.medianMs, false)}]`;
}

/** GFLOP/s, GB/s or images/s at the median, for a row that defines one. */
export function rate(row: Row, ms: number): { value: number; unit: string } | null {
  const s = ms / 1000;
  if (row.flops) return { value: row.flops / s / 1e9, unit: "GFLOP/s" };
  if (row.bytes) return { value: row.bytes / s / 1e9, unit: "GB/s" };
  if (row.images) return { value: row.images / s, unit: "img/s" };
  return null;
}

function formatRate(row: Row, m: Outcome): string {
  if (m.status !== "ok") return "";
  const r = rate(row, m.medianMs);
  if (!r) return "";
  const v = r.value >= 100 ? r.value.toFixed(0) : r.value.toPrecision(3);
  const unit = r.unit === "GFLOP/s" ? "GF/s" : r.unit;
  return `${v} ${unit}`;
}

export function formatOutcome(m: Outcome | undefined): string {
  if (!m) return "";
  if (m.status === "ok") return formatRange(m);
  // the table keeps a reason short; results.json has it whole
  const reason = m.reason.length > 48 ? `${m.reason.slice(0, 47)}…` : m.reason;
  return `${m.status} (${reason})`;
}

/** tfjs time / gpu-cnn time: above 1, gpu-cnn is faster. */
export function ratio(ours: Outcome | undefined, theirs: Outcome | undefined): number | null {
  if (ours?.status !== "ok" || theirs?.status !== "ok") return null;
  return theirs.medianMs / ours.medianMs;
}

function formatRatio(r: number | null): string {
  if (r === null) return "";
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×`;
}

export interface RowResult {
  row: Row;
  outcomes: Partial<Record<PeerName, Outcome>>;
  /** Relative L2 error of gpu-cnn's output against a tfjs peer's, when both ran. */
  check?: { against: PeerName; relativeError: number };
}

/** The terminal table (or Markdown with `markdown`): time, rate and ratio per peer. */
export function table(results: RowResult[], peers: readonly PeerName[], markdown = false): string {
  const header = ["row"];
  for (const p of peers) {
    header.push(p, "rate");
    if (p !== "gpu-cnn") header.push("÷");
  }
  header.push("check");
  const lines: string[][] = [header];
  for (const { row, outcomes, check } of results) {
    const cells = [row.title];
    for (const p of peers) {
      cells.push(formatOutcome(outcomes[p]), formatRate(row, outcomes[p]!));
      if (p !== "gpu-cnn") cells.push(formatRatio(ratio(outcomes["gpu-cnn"], outcomes[p])));
    }
    cells.push(check ? `${check.relativeError < 1e-3 ? "ok" : "MISMATCH"} ${check.relativeError.toExponential(1)}` : "");
    lines.push(cells);
  }
  if (markdown) {
    const md = lines.map((cells) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`);
    md.splice(1, 0, `|${header.map(() => "---").join("|")}|`);
    return md.join("\n");
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => [...l[i]].length)));
  const pad = (s: string, w: number, right: boolean) => (right ? s.padStart(w + s.length - [...s].length) : s.padEnd(w + s.length - [...s].length));
  const out = lines.map((cells) => cells.map((c, i) => pad(c, widths[i], i > 0 && header[i] !== "check")).join("  ").trimEnd());
  out.splice(1, 0, widths.map((w) => "─".repeat(w)).join("  "));
  return out.join("\n");
}
