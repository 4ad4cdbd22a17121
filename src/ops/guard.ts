import { shapeString, type Tensor } from "../tensor.js";
import { run, params, shapeError } from "./run.js";

/**
 * Sets status[0] = 1 when loss[0] is NaN or ±Infinity, on the GPU (the loss is never read back);
 * never clears it. Optimizer updates do nothing while status[0] != 0, so a step whose loss is not
 * finite leaves the weights as they were before it.
 */
export function guard(loss: Tensor, status: Tensor): void {
  if (loss.size !== 1) throw shapeError("guard", `loss ${shapeString(loss.shape)} must have exactly one element`);
  checkStatus("guard", status);
  run("guard", [loss, status], params([]), [1]);
}

/** Throws unless status is a one-element tensor. */
export function checkStatus(op: string, status: Tensor): void {
  if (status.size !== 1) throw shapeError(op, `status ${shapeString(status.shape)} must have exactly one element`);
}
