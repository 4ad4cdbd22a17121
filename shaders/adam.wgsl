// Optimizer updates, in place, one pass over memory, and the non-finite-loss guard.
// status[0] != 0 (set by guard when a loss was NaN or infinite) turns every update into a no-op,
// so a step with a bad loss leaves the weights as they were, without reading the loss back.
// Updates read the tensors as vec4s and split them into contiguous slices as the elementwise
// kernels do: WG, RUN and span() come from shaders/elementwise.wgsl's shared block, which
// src/kernels.ts puts in front of this file. A few workgroups, runs of RUN lanes per sub-slice.
// n counts floats; bindings are rounded up to whole vec4s, and updating the padding past n is
// harmless.

// Keras' Adam with alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t) computed on the CPU:
//   m += (g - m) * (1 - beta1); v += (g^2 - v) * (1 - beta2); p -= m * alpha / (sqrt(v) + eps)
// fresh != 0: m and v are new buffers that hold nothing yet (the first update of a parameter's
// state): read as zeros, and written as zeros when the step is skipped, so they need no clear.
struct Adam { n: u32, fresh: u32, alpha: f32, one_minus_beta1: f32, one_minus_beta2: f32, epsilon: f32 }
// Keras' SGD: v = momentum * v - lr * g; p += v. Without momentum: p -= lr * g.
struct Sgd { n: u32, learning_rate: f32, momentum: f32 }

@group(1) @binding(0) var<uniform> adam_params: Adam;
@group(1) @binding(0) var<uniform> sgd_params: Sgd;

// ---- adam: reads grad, status; writes param, m, v
@group(0) @binding(0) var<storage, read> adam_g: array<vec4f>;
@group(0) @binding(1) var<storage, read> adam_status: array<f32>;
@group(0) @binding(2) var<storage, read_write> adam_param: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> adam_m: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> adam_v: array<vec4f>;

@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = span(gid, nwg, adam_params.n);
  let p = adam_params;
  let fresh = p.fresh != 0u;
  if (adam_status[0] != 0.0) {
    if (fresh) {
      for (var i = s.first; i < s.end; i += RUN) { adam_m[i] = vec4f(0.0); adam_v[i] = vec4f(0.0); }
    }
    return;
  }
  for (var i = s.first; i < s.end; i += RUN) {
    // each tensor loaded once: every storage access is expensive on software Vulkan
    let g = adam_g[i];
    var m0 = vec4f(0.0);
    var v0 = vec4f(0.0);
    if (!fresh) {
      m0 = adam_m[i];
      v0 = adam_v[i];
    }
    let w = adam_param[i];
    let m = m0 + (g - m0) * p.one_minus_beta1;
    let v = v0 + (g * g - v0) * p.one_minus_beta2;
    adam_m[i] = m;
    adam_v[i] = v;
    adam_param[i] = w - m * p.alpha / (sqrt(v) + p.epsilon);
  }
}

// ---- sgd (momentum): reads grad, status; writes param, velocity
@group(0) @binding(0) var<storage, read> sgd_g: array<vec4f>;
@group(0) @binding(1) var<storage, read> sgd_status: array<f32>;
@group(0) @binding(2) var<storage, read_write> sgd_param: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> sgd_velocity: array<vec4f>;

@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  if (sgd_status[0] != 0.0) { return; }
  let s = span(gid, nwg, sgd_params.n);
  for (var i = s.first; i < s.end; i += RUN) {
    let v = sgd_params.momentum * sgd_velocity[i] - sgd_params.learning_rate * sgd_g[i];
    sgd_velocity[i] = v;
    sgd_param[i] += v;
  }
}

// ---- sgd_plain (no momentum): reads grad, status; writes param
@compute @workgroup_size(WG)
fn sgd_plain(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  if (sgd_status[0] != 0.0) { return; }
  let s = span(gid, nwg, sgd_params.n);
  for (var i = s.first; i < s.end; i += RUN) { sgd_param[i] -= sgd_params.learning_rate * sgd_g[i]; }
}

// ---- guard: status[0] = 1 when loss[0] is NaN or +-Infinity; never cleared here.
// Tests the exponent bits: a compiler may fold x != x away.
@group(0) @binding(0) var<storage, read> guard_loss: array<f32>;
@group(0) @binding(1) var<storage, read_write> guard_status: array<f32>;

@compute @workgroup_size(1)
fn guard() {
  let bits = bitcast<u32>(guard_loss[0]);
  if ((bits & 0x7f800000u) == 0x7f800000u) { guard_status[0] = 1.0; }
}
