// Elementwise kernels over flat float32 arrays read as vec4s: fill, add, scale, relu and bias.
// Software Vulkan (lavapipe) turns every storage access into a per-lane loop, where a vec4 costs
// about two floats, and every workgroup and invocation costs setup. So a few workgroups
// (blockGroups() in src/ops/run.ts) each walk one contiguous slice of the array: runs of RUN
// lanes own consecutive sub-slices, and in a sub-slice lane k takes vec4s k, k + RUN, ..., so one
// SIMD step touches RUN adjacent vec4s and each run streams through memory in order.
// n counts floats. Bindings are rounded up to whole vec4s (vec4Binding() in src/ops/run.ts), so
// the last vec4 may reach past n: writing that padding is harmless.

// ---- shared: src/kernels.ts puts this block in front of shaders/adam.wgsl ----
override WG: u32 = 64;
const RUN: u32 = 8u;

struct Span { first: u32, end: u32 }

// The vec4s this invocation takes: first, first + RUN, ... below end.
fn span(gid: vec3u, nwg: vec3u, n: u32) -> Span {
  let n4 = (n + 3u) / 4u;
  let runs = nwg.x * (WG / RUN);
  let per = ((n4 + runs - 1u) / runs + RUN - 1u) / RUN * RUN;
  let start = (gid.x / RUN) * per;
  return Span(start + gid.x % RUN, min(start + per, n4));
}
// ---- end shared ----

struct Size { n: u32 }
struct Fill { n: u32, value: f32 }
struct Bias { n: u32, channels: u32 }

// fill: out[i] = value
@group(0) @binding(0) var<storage, read_write> fill_out: array<vec4f>;
@group(1) @binding(0) var<uniform> fill_p: Fill;

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = span(gid, nwg, fill_p.n);
  let v = vec4f(fill_p.value);
  for (var i = s.first; i < s.end; i += RUN) { fill_out[i] = v; }
}

// add: c = a + b (gradient accumulation)
@group(0) @binding(0) var<storage, read> add_a: array<vec4f>;
@group(0) @binding(1) var<storage, read> add_b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> add_c: array<vec4f>;
@group(1) @binding(0) var<uniform> size_p: Size;

@compute @workgroup_size(WG)
fn add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = span(gid, nwg, size_p.n);
  for (var i = s.first; i < s.end; i += RUN) { add_c[i] = add_a[i] + add_b[i]; }
}

// scale: y = x * value
@group(0) @binding(0) var<storage, read> scale_x: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> scale_y: array<vec4f>;

@compute @workgroup_size(WG)
fn scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = span(gid, nwg, fill_p.n);
  for (var i = s.first; i < s.end; i += RUN) { scale_y[i] = scale_x[i] * fill_p.value; }
}

// relu keeps NaN, as TensorFlow's and tf.js' do: WGSL's max(NaN, 0) is 0, which would hide a NaN
// from the loss (and so from fit's guard) and train on silently. (matmul.wgsl and conv2d.wgsl
// define it too: WGSL has no includes.)
fn relu4(v: vec4f) -> vec4f { return select(v, vec4f(0.0), v < vec4f(0.0)); }

// relu_fwd: y = relu(x)
@group(0) @binding(0) var<storage, read> relu_x: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> relu_y: array<vec4f>;

@compute @workgroup_size(WG)
fn relu_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = span(gid, nwg, size_p.n);
  for (var i = s.first; i < s.end; i += RUN) { relu_y[i] = relu4(relu_x[i]); }
}

// relu_bwd: dx = dy where y > 0, else 0 (the gradient at 0 is 0, as in Keras)
@group(0) @binding(0) var<storage, read> relub_y: array<vec4f>;
@group(0) @binding(1) var<storage, read> relub_dy: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> relub_dx: array<vec4f>;

@compute @workgroup_size(WG)
fn relu_bwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = span(gid, nwg, size_p.n);
  for (var i = s.first; i < s.end; i += RUN) { relub_dx[i] = select(vec4f(0.0), relub_dy[i], relub_y[i] > vec4f(0.0)); }
}

// bias_add: y[r, c] = x[r, c] + b[c]; bias_relu also applies relu. Chunks start on row bounds,
// so float f of the binding is channel f % channels.
@group(0) @binding(0) var<storage, read> bias_x: array<vec4f>;
@group(0) @binding(1) var<storage, read> bias_b: array<f32>;
@group(0) @binding(2) var<storage, read_write> bias_y: array<vec4f>;
@group(1) @binding(0) var<uniform> bias_p: Bias;

// The biases of floats c, c + 1, c + 2, c + 3 (channel c and the three after it, wrapping).
fn bias_at(c: u32) -> vec4f {
  let n = bias_p.channels;
  let c1 = select(c + 1u, c + 1u - n, c + 1u >= n);
  let c2 = select(c1 + 1u, c1 + 1u - n, c1 + 1u >= n);
  let c3 = select(c2 + 1u, c2 + 1u - n, c2 + 1u >= n);
  return vec4f(bias_b[c], bias_b[c1], bias_b[c2], bias_b[c3]);
}

fn bias_vec4(gid: vec3u, nwg: vec3u, relu: bool) {
  let s = span(gid, nwg, bias_p.n);
  let n = bias_p.channels;
  // a lane steps RUN vec4s: 4 * RUN floats, which moves its channel by `step`
  let step = (4u * RUN) % n;
  if (step == 0u) {
    // the lane sees the same channels every step: load its biases once
    let b = bias_at((4u * s.first) % n);
    for (var i = s.first; i < s.end; i += RUN) {
      let y = bias_x[i] + b;
      bias_y[i] = select(y, relu4(y), relu);
    }
    return;
  }
  var c = (4u * s.first) % n;
  for (var i = s.first; i < s.end; i += RUN) {
    let y = bias_x[i] + bias_at(c);
    bias_y[i] = select(y, relu4(y), relu);
    c += step;
    if (c >= n) { c -= n; }
  }
}

@compute @workgroup_size(WG)
fn bias_add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  bias_vec4(gid, nwg, false);
}

@compute @workgroup_size(WG)
fn bias_relu(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  bias_vec4(gid, nwg, true);
}
