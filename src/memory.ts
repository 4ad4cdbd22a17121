import { gpu } from "./device.js";

/**
 * GPU memory right now: bytes held by live tensors and bytes the buffer pool owns; and the
 * dispatches recorded and queue submissions made so far.
 */
export function memory(): { bytesInUse: number; bytesAllocated: number; dispatches: number; submissions: number } {
  const g = gpu();
  return { bytesInUse: g.pool.bytesInUse, bytesAllocated: g.pool.bytesAllocated, dispatches: g.dispatches, submissions: g.submissions };
}
