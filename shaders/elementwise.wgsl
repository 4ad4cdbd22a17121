// Elementwise kernels over flat float32 arrays: fill, add, relu and bias.
// 1-D dispatches fold into 2-D past 65,535 workgroups: i = gid.x + gid.y * nwg.x * WG.

override WG: u32 = 256;

struct Size { n: u32 }
struct Fill { n: u32, value: f32 }
struct Bias { n: u32, channels: u32 }

fn flat(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// fill: out[i] = value
@group(0) @binding(0) var<storage, read_write> fill_out: array<f32>;
@group(1) @binding(0) var<uniform> fill_p: Fill;

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i < fill_p.n) { fill_out[i] = fill_p.value; }
}

// add: c = a + b (gradient accumulation)
@group(0) @binding(0) var<storage, read> add_a: array<f32>;
@group(0) @binding(1) var<storage, read> add_b: array<f32>;
@group(0) @binding(2) var<storage, read_write> add_c: array<f32>;
@group(1) @binding(0) var<uniform> size_p: Size;

@compute @workgroup_size(WG)
fn add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i < size_p.n) { add_c[i] = add_a[i] + add_b[i]; }
}

// scale: y = x * value
@group(0) @binding(0) var<storage, read> scale_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> scale_y: array<f32>;

@compute @workgroup_size(WG)
fn scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i < fill_p.n) { scale_y[i] = scale_x[i] * fill_p.value; }
}

// relu_fwd: y = max(x, 0)
@group(0) @binding(0) var<storage, read> relu_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> relu_y: array<f32>;

@compute @workgroup_size(WG)
fn relu_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i < size_p.n) { relu_y[i] = max(relu_x[i], 0.0); }
}

// relu_bwd: dx = dy where y > 0, else 0 (the gradient at 0 is 0, as in Keras)
@group(0) @binding(0) var<storage, read> relub_y: array<f32>;
@group(0) @binding(1) var<storage, read> relub_dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> relub_dx: array<f32>;

@compute @workgroup_size(WG)
fn relu_bwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i < size_p.n) { relub_dx[i] = select(0.0, relub_dy[i], relub_y[i] > 0.0); }
}

// bias_add: y[r, c] = x[r, c] + b[c]; bias_relu also applies relu. Chunks start on row bounds.
@group(0) @binding(0) var<storage, read> bias_x: array<f32>;
@group(0) @binding(1) var<storage, read> bias_b: array<f32>;
@group(0) @binding(2) var<storage, read_write> bias_y: array<f32>;
@group(1) @binding(0) var<uniform> bias_p: Bias;

@compute @workgroup_size(WG)
fn bias_add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i < bias_p.n) { bias_y[i] = bias_x[i] + bias_b[i % bias_p.channels]; }
}

@compute @workgroup_size(WG)
fn bias_relu(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i < bias_p.n) { bias_y[i] = max(bias_x[i] + bias_b[i % bias_p.channels], 0.0); }
}
