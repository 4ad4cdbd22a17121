// Buffer pool: tensors of a training step come and go every step, with the same sizes, so freed
// buffers wait in size classes and are handed out again instead of being recreated.

/** Size classes: powers of two up to 1 MiB, then multiples of 1 MiB (limits waste on big tensors). */
export function sizeClass(bytes: number): number {
  const b = Math.max(bytes, 16);
  if (b <= 1 << 20) return 2 ** Math.ceil(Math.log2(b));
  return Math.ceil(b / (1 << 20)) * (1 << 20);
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private live = new Set<GPUBuffer>();
  /** Bytes held by tensors right now. */
  bytesInUse = 0;
  /** Bytes of GPU memory the pool owns, in use or waiting for reuse. */
  bytesAllocated = 0;

  constructor(
    private device: GPUDevice,
    private maxBufferSize: number,
  ) {}

  /** A buffer of at least `bytes`; `what` names the tensor in the error when it cannot fit. */
  acquire(bytes: number, what: string): GPUBuffer {
    // sizes stay multiples of 16 (vec4 kernels bind a tensor's tail as a whole vec4)
    const largest = Math.floor(this.maxBufferSize / 16) * 16;
    const size = sizeClass(bytes);
    if (bytes > largest) {
      throw new Error(
        `gpu-cnn: ${what} needs ${(bytes / 2 ** 20).toFixed(1)} MiB, but this adapter's largest buffer (maxBufferSize) is ` +
          `${(this.maxBufferSize / 2 ** 20).toFixed(1)} MiB. Use a smaller batch, image size or layer.`,
      );
    }
    const alloc = Math.min(size, largest);
    const buffer = this.free.get(alloc)?.pop() ?? this.create(alloc);
    this.live.add(buffer);
    this.bytesInUse += buffer.size;
    return buffer;
  }

  private create(size: number): GPUBuffer {
    this.bytesAllocated += size;
    return this.device.createBuffer({ label: "gpu-cnn tensor", size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  }

  release(buffer: GPUBuffer): void {
    if (!this.live.delete(buffer)) return;
    this.bytesInUse -= buffer.size;
    const list = this.free.get(buffer.size);
    if (list) list.push(buffer);
    else this.free.set(buffer.size, [buffer]);
  }

  /** Frees every buffer not in use right now. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) {
      this.bytesAllocated -= b.size;
      b.destroy();
    }
    this.free.clear();
  }

  destroyAll(): void {
    this.trim();
    for (const b of this.live) b.destroy();
    this.live.clear();
    this.bytesInUse = 0;
    this.bytesAllocated = 0;
  }
}
