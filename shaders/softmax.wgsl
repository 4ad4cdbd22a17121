// Row kernels over [rows, cols]: softmax and its backward, the fused softmax + cross-entropy,
// cross-entropy on probabilities, and accuracy. Each invocation handles a whole row.
// (A workgroup per row, reducing through workgroup memory, measured 3-80x slower on lavapipe:
// software Vulkan runs barriers slowly, and class counts are small.) Exponentials are
// recomputed rather than stored and rescaled: one memory pass fewer, faster on lavapipe.
// Row indices fold into 2-D past 65,535 workgroups: row = gid.x + gid.y * nwg.x * WG.

override WG: u32 = 64;

struct Rows { rows: u32, cols: u32 }
// xent_probs: probabilities clipped to [lo, hi] before the log
struct Clip { rows: u32, cols: u32, lo: f32, hi: f32 }
struct Scaled { n: u32, scale: f32 }

fn flat(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// ---- softmax_fwd: y = exp(x - max) / sum(exp(x - max)) per row
@group(0) @binding(0) var<storage, read> smf_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> smf_y: array<f32>;
@group(1) @binding(0) var<uniform> rows_p: Rows;

@compute @workgroup_size(WG)
fn softmax_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat(gid, nwg);
  if (row >= rows_p.rows) { return; }
  let cols = rows_p.cols;
  let base = row * cols;
  var m = smf_x[base];
  for (var c = 1u; c < cols; c++) { m = max(m, smf_x[base + c]); }
  var s = 0.0;
  for (var c = 0u; c < cols; c++) { s += exp(smf_x[base + c] - m); }
  let inv = 1.0 / s;
  for (var c = 0u; c < cols; c++) { smf_y[base + c] = exp(smf_x[base + c] - m) * inv; }
}

// ---- softmax_bwd: dx = y * (dy - sum(dy * y)) per row
@group(0) @binding(0) var<storage, read> smb_y: array<f32>;
@group(0) @binding(1) var<storage, read> smb_dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> smb_dx: array<f32>;

@compute @workgroup_size(WG)
fn softmax_bwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat(gid, nwg);
  if (row >= rows_p.rows) { return; }
  let cols = rows_p.cols;
  let base = row * cols;
  var dot = 0.0;
  for (var c = 0u; c < cols; c++) { dot += smb_y[base + c] * smb_dy[base + c]; }
  for (var c = 0u; c < cols; c++) { smb_dx[base + c] = smb_y[base + c] * (smb_dy[base + c] - dot); }
}

// ---- softmax_xent_fwd: probabilities, and per row the cross-entropy sum(y * (lse - x)) with
// lse = max + log(sum(exp(x - max))), the log-sum-exp. Terms with y = 0 are skipped (a -inf
// logit adds nothing).
@group(0) @binding(0) var<storage, read> xf_x: array<f32>;
@group(0) @binding(1) var<storage, read> xf_labels: array<f32>;
@group(0) @binding(2) var<storage, read_write> xf_probs: array<f32>;
@group(0) @binding(3) var<storage, read_write> xf_loss: array<f32>;

@compute @workgroup_size(WG)
fn softmax_xent_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat(gid, nwg);
  if (row >= rows_p.rows) { return; }
  let cols = rows_p.cols;
  let base = row * cols;
  var m = xf_x[base];
  for (var c = 1u; c < cols; c++) { m = max(m, xf_x[base + c]); }
  var s = 0.0;
  for (var c = 0u; c < cols; c++) { s += exp(xf_x[base + c] - m); }
  let inv = 1.0 / s;
  let log_s = log(s);
  var loss = 0.0;
  for (var c = 0u; c < cols; c++) {
    let x = xf_x[base + c];
    xf_probs[base + c] = exp(x - m) * inv;
    let y = xf_labels[base + c];
    // (max - x) + log(s), not lse - x: max + log(s) would round log(s) away for huge logits
    loss += select(y * ((m - x) + log_s), 0.0, y == 0.0);
  }
  xf_loss[row] = loss;
}

// ---- softmax_xent_bwd: dlogits = (probs - labels) * dL[0] * scale (scale = 1 / rows), flat
@group(0) @binding(0) var<storage, read> xb_probs: array<f32>;
@group(0) @binding(1) var<storage, read> xb_labels: array<f32>;
@group(0) @binding(2) var<storage, read> xb_dloss: array<f32>;
@group(0) @binding(3) var<storage, read_write> xb_dx: array<f32>;
@group(1) @binding(0) var<uniform> scaled_p: Scaled;

@compute @workgroup_size(256)
fn softmax_xent_bwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= scaled_p.n) { return; }
  xb_dx[i] = (xb_probs[i] - xb_labels[i]) * (xb_dloss[0] * scaled_p.scale);
}

// ---- xent_probs: per row -sum(y * log(clip(p / sum(p), lo, hi))), Keras on probabilities
@group(0) @binding(0) var<storage, read> xp_probs: array<f32>;
@group(0) @binding(1) var<storage, read> xp_labels: array<f32>;
@group(0) @binding(2) var<storage, read_write> xp_loss: array<f32>;
@group(1) @binding(0) var<uniform> clip_p: Clip;

@compute @workgroup_size(WG)
fn xent_probs(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat(gid, nwg);
  if (row >= clip_p.rows) { return; }
  let cols = clip_p.cols;
  let base = row * cols;
  var s = 0.0;
  for (var c = 0u; c < cols; c++) { s += xp_probs[base + c]; }
  var loss = 0.0;
  for (var c = 0u; c < cols; c++) {
    let p = clamp(xp_probs[base + c] / s, clip_p.lo, clip_p.hi);
    loss -= xp_labels[base + c] * log(p);
  }
  xp_loss[row] = loss;
}

// ---- accuracy: 1 where the row's argmax of scores equals that of labels (ties: first index)
@group(0) @binding(0) var<storage, read> acc_scores: array<f32>;
@group(0) @binding(1) var<storage, read> acc_labels: array<f32>;
@group(0) @binding(2) var<storage, read_write> acc_hit: array<f32>;

@compute @workgroup_size(WG)
fn accuracy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat(gid, nwg);
  if (row >= rows_p.rows) { return; }
  let cols = rows_p.cols;
  let base = row * cols;
  var best_score = acc_scores[base];
  var best_label = acc_labels[base];
  var arg_score = 0u;
  var arg_label = 0u;
  for (var c = 1u; c < cols; c++) {
    let s = acc_scores[base + c];
    let l = acc_labels[base + c];
    if (s > best_score) { best_score = s; arg_score = c; }
    if (l > best_label) { best_label = l; arg_label = c; }
  }
  acc_hit[row] = select(0.0, 1.0, arg_score == arg_label);
}
