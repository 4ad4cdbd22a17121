// Per-kernel GPU time from timestamp queries: Gpu.startProfile() gives each dispatch its own
// compute pass whose begin and end timestamps land in a query set, resolved at every submit.

export interface KernelTime {
  kernel: string;
  dispatches: number;
  ms: number;
}

const QUERIES = 4096; // two per dispatch; resolved (and reused) at every submit

export class Profiler {
  private readonly querySet: GPUQuerySet;
  private labels: string[] = [];
  private readonly reads: Promise<void>[] = [];
  private unread: (() => Promise<void>)[] = [];
  private readonly times = new Map<string, KernelTime>();

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: "timestamp", count: QUERIES });
  }

  /** Timestamp writes for the next dispatch's pass, or none when the set is full until submit. */
  slot(kernel: string): GPUComputePassTimestampWrites | undefined {
    if (this.labels.length * 2 >= QUERIES) return undefined;
    const i = this.labels.push(kernel) - 1;
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Copies this batch's timestamps out, to be read once the batch has run. */
  resolve(encoder: GPUCommandEncoder): void {
    const labels = this.labels;
    if (labels.length === 0) return;
    this.labels = [];
    const bytes = labels.length * 16;
    const resolved = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const staging = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.resolveQuerySet(this.querySet, 0, labels.length * 2, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
    this.unread.push(() =>
      staging.mapAsync(GPUMapMode.READ).then(() => {
        const ns = new BigInt64Array(staging.getMappedRange());
        labels.forEach((kernel, i) => {
          const t = this.times.get(kernel) ?? { kernel, dispatches: 0, ms: 0 };
          t.dispatches++;
          t.ms += Number(ns[2 * i + 1] - ns[2 * i]) / 1e6;
          this.times.set(kernel, t);
        });
        staging.destroy();
        resolved.destroy();
      }),
    );
  }

  /** Maps the batch's timestamps once it is submitted (a buffer pending map cannot be submitted). */
  submitted(): void {
    for (const read of this.unread) this.reads.push(read());
    this.unread = [];
  }

  async totals(): Promise<KernelTime[]> {
    await Promise.all(this.reads);
    this.querySet.destroy();
    return [...this.times.values()].sort((a, b) => b.ms - a.ms);
  }
}
