// Reverse-mode autograd over tensors, micrograd's algorithm: ops record how they were made,
// backward() sorts the graph topologically (iteratively: deep graphs cannot overflow the stack)
// and walks it in reverse, summing gradients where a tensor was used more than once.
import { add } from "./ops/add.js";
import { fill } from "./ops/fill.js";
import { shapeString, type Tensor } from "./tensor.js";

let enabled = true;

/** Runs fn without recording gradients (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const before = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = before;
  }
}

function tracked(t: Tensor | null | undefined): t is Tensor {
  return !!t && (t.requiresGrad || t.node !== null);
}

/**
 * Called by every op after its forward dispatch: if any input needs a gradient, remembers how to
 * compute the inputs' gradients from the output's. `backward` returns one entry per input.
 */
export function record(out: Tensor, op: string, inputs: (Tensor | null)[], backward: (dy: Tensor) => (Tensor | null)[]): Tensor {
  if (!enabled || !inputs.some(tracked)) return out;
  const kept = inputs.filter((t): t is Tensor => t !== null);
  out.node = {
    op,
    inputs: kept,
    backward(dy) {
      const grads = backward(dy);
      if (grads.length !== inputs.length) throw new Error(`gpu-cnn: ${op} backward returned ${grads.length} gradients for ${inputs.length} inputs`);
      return grads.filter((_, i) => inputs[i] !== null);
    },
  };
  return out;
}

/** Tensors reachable from `root` through recorded ops, inputs before the ops that use them. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length) {
    const [t, childrenDone] = stack.pop()!;
    if (childrenDone) {
      order.push(t);
      continue;
    }
    if (visited.has(t)) continue;
    visited.add(t);
    stack.push([t, true]);
    for (const input of t.node?.inputs ?? []) if (!visited.has(input) && tracked(input)) stack.push([input, false]);
  }
  return order;
}

/**
 * Computes d(output)/d(t) for every tensor t with requiresGrad that `output` depends on, sets
 * t.grad, and returns them. `output` is usually a scalar loss (its seed gradient is 1);
 * otherwise pass `dOutput`, the gradient flowing into it.
 */
export function backward(output: Tensor, dOutput?: Tensor): Map<Tensor, Tensor> {
  if (!output.node && !output.requiresGrad) {
    throw new Error(`gpu-cnn: backward(): ${output.name} ${shapeString(output.shape)} does not depend on any tensor with requiresGrad`);
  }
  if (dOutput && dOutput.size !== output.size) {
    throw new Error(`gpu-cnn: backward(): gradient ${shapeString(dOutput.shape)} does not match output ${shapeString(output.shape)}`);
  }
  return noGrad(() => {
    const grads = new Map<Tensor, Tensor>([[output, dOutput ?? fill(output.shape, 1)]]);
    const result = new Map<Tensor, Tensor>();
    for (const t of topologicalOrder(output).reverse()) {
      const g = grads.get(t);
      if (!g) continue;
      if (t.requiresGrad) {
        t.grad = g;
        result.set(t, g);
      }
      if (!t.node) continue;
      const inputGrads = t.node.backward(g);
      t.node.inputs.forEach((input, i) => {
        const gi = inputGrads[i];
        if (!gi || !tracked(input)) return;
        if (gi.size !== input.size) {
          throw new Error(`gpu-cnn: ${t.node!.op} backward gave a gradient ${shapeString(gi.shape)} for input ${shapeString(input.shape)}`);
        }
        const shaped = gi.shape.length === input.shape.length && gi.shape.every((d, j) => d === input.shape[j]) ? gi : gi.reshape(input.shape);
        const before = grads.get(input);
        grads.set(input, before ? add(before, shaped) : shaped);
      });
    }
    return result;
  });
}
