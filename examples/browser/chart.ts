// Two small line plots on one canvas: loss (left) and accuracy (right), training and validation,
// against epochs. Redrawn at most once per animation frame as points arrive.

export type Series = "loss" | "val_loss" | "accuracy" | "val_accuracy";
interface Point {
  x: number;
  y: number;
}

const COLORS = { train: "#2f6fed", val: "#e8590c", grid: "#e3e6ec", axis: "#9aa1b1", text: "#687083" };

export class Chart {
  private readonly ctx: CanvasRenderingContext2D;
  private readonly series: Record<Series, Point[]> = { loss: [], val_loss: [], accuracy: [], val_accuracy: [] };
  private epochs = 1;
  private pending = false;

  constructor(private readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no 2-D canvas");
    this.ctx = ctx;
    this.draw();
  }

  /** Forgets every point; the x axis will span `epochs`. */
  reset(epochs: number): void {
    for (const s of Object.values(this.series)) s.length = 0;
    this.epochs = Math.max(epochs, 1);
    this.update();
  }

  add(series: Series, x: number, y: number): void {
    if (!Number.isFinite(y)) return;
    this.series[series].push({ x, y });
    this.update();
  }

  /** How many points the chart holds (the demo test reads it from data-points). */
  get points(): number {
    return Object.values(this.series).reduce((n, s) => n + s.length, 0);
  }

  private update(): void {
    this.canvas.dataset.points = String(this.points);
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  draw(): void {
    const { canvas, ctx } = this;
    const dpr = window.devicePixelRatio || 1;
    const width = 720;
    const height = 260;
    if (canvas.width !== width * dpr) {
      canvas.width = width * dpr;
      canvas.height = height * dpr;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    const lossMax = Math.max(0.5, ...this.series.loss.map((p) => p.y), ...this.series.val_loss.map((p) => p.y)) * 1.05;
    this.plot({ left: 44, top: 22, width: 300, height: 200 }, "loss", [0, lossMax], this.series.loss, this.series.val_loss);
    this.plot({ left: 404, top: 22, width: 300, height: 200 }, "accuracy", [0, 1], this.series.accuracy, this.series.val_accuracy);
  }

  private plot(area: { left: number; top: number; width: number; height: number }, title: string, [lo, hi]: [number, number], train: Point[], val: Point[]): void {
    const { ctx } = this;
    const px = (x: number): number => area.left + (x / this.epochs) * area.width;
    const py = (y: number): number => area.top + area.height - ((y - lo) / (hi - lo)) * area.height;
    ctx.font = "11px system-ui, sans-serif";
    ctx.lineWidth = 1;
    // grid and tick labels
    ctx.fillStyle = COLORS.text;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let i = 0; i <= 4; i++) {
      const y = lo + ((hi - lo) * i) / 4;
      ctx.strokeStyle = COLORS.grid;
      ctx.beginPath();
      ctx.moveTo(area.left, Math.round(py(y)) + 0.5);
      ctx.lineTo(area.left + area.width, Math.round(py(y)) + 0.5);
      ctx.stroke();
      ctx.fillText(y.toFixed(hi - lo < 2 ? 2 : 1), area.left - 6, py(y));
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const step = Math.max(1, Math.ceil(this.epochs / 6));
    for (let e = 0; e <= this.epochs; e += step) ctx.fillText(String(e), px(e), area.top + area.height + 5);
    ctx.fillText("epoch", area.left + area.width / 2, area.top + area.height + 20);
    ctx.textAlign = "left";
    ctx.textBaseline = "bottom";
    ctx.fillStyle = "#1d2330";
    ctx.font = "600 12px system-ui, sans-serif";
    ctx.fillText(title, area.left, area.top - 6);
    ctx.strokeStyle = COLORS.axis;
    ctx.strokeRect(area.left + 0.5, area.top + 0.5, area.width, area.height);
    // the curves, clipped to the plot
    ctx.save();
    ctx.beginPath();
    ctx.rect(area.left, area.top, area.width, area.height);
    ctx.clip();
    const line = (points: Point[], color: string, dots: boolean): void => {
      if (points.length === 0) return;
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = 2;
      ctx.lineJoin = "round";
      ctx.beginPath();
      points.forEach((p, i) => (i === 0 ? ctx.moveTo(px(p.x), py(p.y)) : ctx.lineTo(px(p.x), py(p.y))));
      ctx.stroke();
      if (dots || points.length === 1) {
        for (const p of points) {
          ctx.beginPath();
          ctx.arc(px(p.x), py(p.y), 3, 0, 2 * Math.PI);
          ctx.fill();
        }
      }
    };
    line(train, COLORS.train, false);
    line(val, COLORS.val, true);
    ctx.restore();
  }
}
