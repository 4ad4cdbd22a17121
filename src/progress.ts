// The progress display of fit(): in a Node terminal, a Keras-style bar redrawn in place (step,
// loss, accuracy, images/s, time left); elsewhere (a pipe, a log file, a browser) one line per
// epoch when asked for. Never touches process.stdout unless it exists.
import type { Logs } from "./callbacks.js";

interface Stream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

function stdout(): Stream | null {
  const p = (globalThis as { process?: { stdout?: Stream } }).process;
  return p?.stdout && typeof p.stdout.write === "function" ? p.stdout : null;
}

/** fit's default verbosity: the bar in an interactive terminal, silence elsewhere. */
export function defaultVerbose(): 0 | 1 {
  return stdout()?.isTTY ? 1 : 0;
}

function seconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s >= 3600) return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
  if (s >= 60) return `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
  return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
}

function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .map(([k, v]) => ` - ${k}: ${Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(3)}`)
    .join("");
}

const BAR = 30;
const REDRAW_MS = 100;

export class ProgressBar {
  private stream: Stream | null;
  private live: boolean;
  private started = 0;
  private lastDraw = 0;
  private now = (): number => (globalThis.performance ?? Date).now();

  /** verbose 0: nothing; 1: the bar (in place on a terminal, one line per epoch otherwise); 2: one line per epoch. */
  constructor(
    private readonly verbose: number,
    private readonly epochs: number,
    private readonly steps: number,
  ) {
    this.stream = verbose > 0 ? stdout() : null;
    this.live = verbose === 1 && !!this.stream?.isTTY;
  }

  private line(text: string): void {
    if (this.verbose === 0) return;
    if (this.stream) this.stream.write(text + "\n");
    else console.log(text);
  }

  epochBegin(epoch: number): void {
    this.started = this.now();
    this.lastDraw = 0;
    if (this.verbose === 1) this.line(`Epoch ${epoch + 1}/${this.epochs}`);
  }

  /** After `step` steps (1-based) and `images` samples of this epoch; `logs` are running means. */
  update(step: number, images: number, logs: Logs): void {
    if (!this.live) return;
    const t = this.now();
    if ((this.steps <= 0 || step < this.steps) && t - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = t;
    const elapsed = (t - this.started) / 1000;
    const rate = elapsed > 0 ? images / elapsed : 0;
    // a dataset that does not say how many batches it has: no bar and no time left (as Keras' "n/Unknown")
    const eta = this.steps > 0 ? ` - ETA: ${seconds(step > 0 ? (elapsed / step) * (this.steps - step) : Infinity)}` : "";
    const text = `${this.bar(step)}${eta}${formatLogs(logs)} - ${Math.round(rate)} img/s`;
    const width = this.stream!.columns || 200; // 0 when the terminal does not say
    this.stream!.write(`\r${text.slice(0, Math.max(width - 1, 20))}\x1b[K`);
  }

  /** The epoch's final line, with validation values when there are some; `stepsDone` when the count was not known. */
  epochEnd(epoch: number, images: number, logs: Logs, stepsDone = this.steps): void {
    if (this.verbose === 0) return;
    const elapsed = (this.now() - this.started) / 1000;
    const perStep = stepsDone > 0 ? (elapsed * 1000) / stepsDone : 0;
    const rate = elapsed > 0 ? Math.round(images / elapsed) : 0;
    const timing = `${seconds(elapsed)} ${perStep.toFixed(0)}ms/step - ${rate} img/s`;
    if (this.verbose === 2) {
      this.line(`Epoch ${epoch + 1}/${this.epochs} - ${timing}${formatLogs(logs)}`);
      return;
    }
    const text = `${this.bar(this.steps > 0 ? this.steps : stepsDone)} - ${timing}${formatLogs(logs)}`;
    if (this.live) this.stream!.write(`\r${text}\x1b[K\n`);
    else this.line(text);
  }

  private bar(step: number): string {
    if (this.steps <= 0) return `${step}/Unknown`;
    const digits = String(this.steps).length;
    const done = this.steps > 0 ? Math.floor((step / this.steps) * BAR) : BAR;
    const arrow = step < this.steps ? ">" : "=";
    const filled = done > 0 ? "=".repeat(done - 1) + arrow : "";
    return `${String(step).padStart(digits)}/${this.steps} [${filled}${".".repeat(BAR - filled.length)}]`;
  }
}
