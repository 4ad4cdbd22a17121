// Optimizer updates, in place, one pass over memory, and the non-finite-loss guard.
// status[0] != 0 (set by guard when a loss was NaN or infinite) turns every update into a no-op,
// so a step with a bad loss leaves the weights as they were, without reading the loss back.
// *_vec4 kernels move four floats per load; they run when the tensor's size divides by 4.
// 1-D dispatches fold into 2-D past 65,535 workgroups: i = gid.x + gid.y * nwg.x * WG.

override WG: u32 = 256;

fn flat(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// n counts elements of the kernel's array type (floats, or vec4s for *_vec4).
// Keras' Adam with alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t) computed on the CPU:
//   m += (g - m) * (1 - beta1); v += (g^2 - v) * (1 - beta2); p -= m * alpha / (sqrt(v) + eps)
struct Adam { n: u32, alpha: f32, one_minus_beta1: f32, one_minus_beta2: f32, epsilon: f32 }
// Keras' SGD: v = momentum * v - lr * g; p += v. Without momentum: p -= lr * g.
struct Sgd { n: u32, learning_rate: f32, momentum: f32 }

@group(1) @binding(0) var<uniform> adam_params: Adam;
@group(1) @binding(0) var<uniform> sgd_params: Sgd;

// ---- adam: reads grad, status; writes param, m, v
@group(0) @binding(0) var<storage, read> adam_g: array<f32>;
@group(0) @binding(1) var<storage, read> adam_status: array<f32>;
@group(0) @binding(2) var<storage, read_write> adam_param: array<f32>;
@group(0) @binding(3) var<storage, read_write> adam_m: array<f32>;
@group(0) @binding(4) var<storage, read_write> adam_v: array<f32>;

@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= adam_params.n || adam_status[0] != 0.0) { return; }
  let g = adam_g[i];
  let m = adam_m[i] + (g - adam_m[i]) * adam_params.one_minus_beta1;
  let v = adam_v[i] + (g * g - adam_v[i]) * adam_params.one_minus_beta2;
  adam_m[i] = m;
  adam_v[i] = v;
  adam_param[i] -= m * adam_params.alpha / (sqrt(v) + adam_params.epsilon);
}

@group(0) @binding(0) var<storage, read> adam4_g: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> adam4_param: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> adam4_m: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> adam4_v: array<vec4f>;

@compute @workgroup_size(WG)
fn adam_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= adam_params.n || adam_status[0] != 0.0) { return; }
  let g = adam4_g[i];
  let m = adam4_m[i] + (g - adam4_m[i]) * adam_params.one_minus_beta1;
  let v = adam4_v[i] + (g * g - adam4_v[i]) * adam_params.one_minus_beta2;
  adam4_m[i] = m;
  adam4_v[i] = v;
  adam4_param[i] -= m * adam_params.alpha / (sqrt(v) + adam_params.epsilon);
}

// ---- sgd (momentum): reads grad, status; writes param, velocity
@group(0) @binding(0) var<storage, read> sgd_g: array<f32>;
@group(0) @binding(1) var<storage, read> sgd_status: array<f32>;
@group(0) @binding(2) var<storage, read_write> sgd_param: array<f32>;
@group(0) @binding(3) var<storage, read_write> sgd_velocity: array<f32>;

@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= sgd_params.n || sgd_status[0] != 0.0) { return; }
  let v = sgd_params.momentum * sgd_velocity[i] - sgd_params.learning_rate * sgd_g[i];
  sgd_velocity[i] = v;
  sgd_param[i] += v;
}

@group(0) @binding(0) var<storage, read> sgd4_g: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> sgd4_param: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> sgd4_velocity: array<vec4f>;

@compute @workgroup_size(WG)
fn sgd_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= sgd_params.n || sgd_status[0] != 0.0) { return; }
  let v = sgd_params.momentum * sgd4_velocity[i] - sgd_params.learning_rate * sgd4_g[i];
  sgd4_velocity[i] = v;
  sgd4_param[i] += v;
}

// ---- sgd_plain (no momentum): reads grad, status; writes param
@compute @workgroup_size(WG)
fn sgd_plain(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= sgd_params.n || sgd_status[0] != 0.0) { return; }
  sgd_param[i] -= sgd_params.learning_rate * sgd_g[i];
}

@compute @workgroup_size(WG)
fn sgd_plain_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= sgd_params.n || sgd_status[0] != 0.0) { return; }
  sgd4_param[i] -= sgd_params.learning_rate * sgd4_g[i];
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
