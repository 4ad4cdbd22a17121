import { gpu } from "./device.js";

/** GPU memory right now: bytes held by live tensors, and bytes the buffer pool owns. */
export function memory(): { bytesInUse: number; bytesAllocated: number; submissions: number } {
  const g = gpu();
  return { bytesInUse: g.pool.bytesInUse, bytesAllocated: g.pool.bytesAllocated, submissions: g.submissions };
}
