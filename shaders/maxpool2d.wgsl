// 2-D max pooling over NHWC images, forward and backward.
// The forward writes each output's maximum and the flat index, within its image, of the input
// element that won: the first maximum in window order (rows, then columns), or the last NaN: a NaN
// wins, as relu keeps it (shaders/elementwise.wgsl), so that it reaches the loss and fit's guard
// rather than vanishing in a pool. Padded cells ("same")
// are never visited, as if they held -infinity. The backward writes every dx element from one
// invocation (deterministic, no atomics): each input element sums dy over the windows that hold
// it and chose it (maxpool2d_bwd*), or, when windows do not overlap, each output writes the cells
// it owns (maxpool2d_bwd_tile*). The argmax buffer is a float tensor's, read here as u32.
// A dispatch sees one chunk of whole images; indices within an image do not depend on the chunk.
// The _vec4 entry points handle 4 channels per invocation and need channels % 4 == 0.

override WG: u32 = 256;

struct Pool {
  h: u32, w: u32, c: u32,
  oh: u32, ow: u32,
  ph: u32, pw: u32,
  sh: u32, sw: u32,
  pad_top: u32, pad_left: u32,
  // items in this dispatch (invocations, or outputs of the block kernels): elements, or groups
  // of 4 channels for _vec4
  n: u32,
}

@group(1) @binding(0) var<uniform> pool_p: Pool;

fn flat(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// NaN by its bits: WGSL lets a compiler assume comparisons never meet a NaN
fn is_nan4(v: vec4f) -> vec4<bool> { return (bitcast<vec4u>(v) & vec4u(0x7fffffffu)) > vec4u(0x7f800000u); }

// The input rows [y0, y1) and columns [x0, x1) of output pixel (oy, ox), clipped to the image.
// Every window holds at least one real cell: Keras' "same" padding is less than the pool.
struct Window { y0: u32, y1: u32, x0: u32, x1: u32 }

fn window(oy: u32, ox: u32) -> Window {
  let top = i32(oy * pool_p.sh) - i32(pool_p.pad_top);
  let left = i32(ox * pool_p.sw) - i32(pool_p.pad_left);
  return Window(
    u32(max(top, 0)), u32(min(top + i32(pool_p.ph), i32(pool_p.h))),
    u32(max(left, 0)), u32(min(left + i32(pool_p.pw), i32(pool_p.w))),
  );
}

// The outputs whose windows hold input row i: [lo, hi], empty when lo > hi.
fn covering(i: u32, pad: u32, pool: u32, stride: u32, outs: u32) -> vec2u {
  let last_start = i32(i + pad) - i32(pool) + 1; // earliest window start that still reaches i
  let lo = select(0u, (u32(last_start) + stride - 1u) / stride, last_start > 0);
  let hi = min((i + pad) / stride, outs - 1u);
  return vec2u(lo, hi);
}

// The 2x2 stride-2 kernels (*_2x2) take a few workgroups (blockGroups() in src/ops/run.ts), each
// walking one contiguous slice of the outputs (groups of 4 channels): on lavapipe each workgroup
// costs ~1 us of setup and every access is a per-lane loop, so fewer, longer-lived lanes win.
// Runs of RUN lanes own consecutive sub-slices, lane k taking outputs k, k + RUN, ..., so one SIMD
// step touches RUN neighbouring outputs. Measured 1.3-1.5x the one-output-per-lane kernels.
const RUN: u32 = 8u;

/** The outputs [x, y) this lane takes, RUN apart. */
fn span(gid: vec3u, nwg: vec3u) -> vec2u {
  let runs = nwg.x * (WG / RUN);
  let per = ((pool_p.n + runs - 1u) / runs + RUN - 1u) / RUN * RUN;
  let start = (gid.x / RUN) * per;
  return vec2u(start + gid.x % RUN, min(start + per, pool_p.n));
}

/** Output vec4 i of a 2x2 stride-2 pool: its image (in vec4s), channel group and 4 cells. */
struct Window2x2 { image: u32, group: u32, c4: u32, pos: u32, cell: array<u32, 4>, lanes: vec4u }

fn window2x2(i: u32) -> Window2x2 {
  let c4 = pool_p.c / 4u;
  let group = i % c4;
  let pixel = i / c4;
  let ox = pixel % pool_p.ow;
  let rest = pixel / pool_p.ow;
  let oy = rest % pool_p.oh;
  let pos = oy * 2u * pool_p.w + ox * 2u; // the window's top-left pixel within its image
  let cell = array<u32, 4>(pos, pos + 1u, pos + pool_p.w, pos + pool_p.w + 1u);
  return Window2x2((rest / pool_p.oh) * pool_p.h * pool_p.w * c4, group, c4, pos, cell, vec4u(0u, 1u, 2u, 3u) + group * 4u);
}

// maxpool2d_fwd: one output element per invocation
@group(0) @binding(0) var<storage, read> fwd_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> fwd_y: array<f32>;
@group(0) @binding(2) var<storage, read_write> fwd_arg: array<u32>;

@compute @workgroup_size(WG)
fn maxpool2d_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= pool_p.n) { return; }
  let c = pool_p.c;
  let ch = i % c;
  let pixel = i / c;
  let ox = pixel % pool_p.ow;
  let rest = pixel / pool_p.ow;
  let oy = rest % pool_p.oh;
  let image = (rest / pool_p.oh) * pool_p.h * pool_p.w * c;
  let win = window(oy, ox);
  var best_at = (win.y0 * pool_p.w + win.x0) * c + ch;
  var best = fwd_x[image + best_at];
  for (var y = win.y0; y < win.y1; y++) {
    for (var x = win.x0; x < win.x1; x++) {
      let at = (y * pool_p.w + x) * c + ch;
      let v = fwd_x[image + at];
      // strict: an equal value later in the window does not replace the first
      if (v > best || is_nan4(vec4f(v)).x) {
        best = v;
        best_at = at;
      }
    }
  }
  fwd_y[i] = best;
  fwd_arg[i] = best_at;
}

// maxpool2d_fwd_vec4: 4 channels of one output pixel per invocation.
@group(0) @binding(0) var<storage, read> fwd4_x: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> fwd4_y: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> fwd4_arg: array<vec4u>;

fn pool_vec4(i: u32, ph: u32, pw: u32) {
  let c4 = pool_p.c / 4u;
  let group = i % c4;
  let pixel = i / c4;
  let ox = pixel % pool_p.ow;
  let rest = pixel / pool_p.ow;
  let oy = rest % pool_p.oh;
  let image = (rest / pool_p.oh) * pool_p.h * pool_p.w * c4;
  let lanes = vec4u(0u, 1u, 2u, 3u) + group * 4u;
  let top = i32(oy * pool_p.sh) - i32(pool_p.pad_top);
  let left = i32(ox * pool_p.sw) - i32(pool_p.pad_left);
  var best = vec4f(0.0);
  var best_at = vec4u(0u);
  var first = true;
  for (var dy = 0u; dy < ph; dy++) {
    let y = top + i32(dy);
    if (y < 0 || y >= i32(pool_p.h)) { continue; }
    for (var dx = 0u; dx < pw; dx++) {
      let x = left + i32(dx);
      if (x < 0 || x >= i32(pool_p.w)) { continue; }
      let pos = u32(y) * pool_p.w + u32(x);
      let v = fwd4_x[image + pos * c4 + group];
      // strict: an equal value later in the window does not replace the first
      let wins = (v > best) | is_nan4(v) | vec4<bool>(first);
      first = false;
      best = select(best, v, wins);
      best_at = select(best_at, vec4u(pos * pool_p.c) + lanes, wins);
    }
  }
  fwd4_y[i] = best;
  fwd4_arg[i] = best_at;
}

@compute @workgroup_size(WG)
fn maxpool2d_fwd_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i < pool_p.n) { pool_vec4(i, pool_p.ph, pool_p.pw); }
}

// maxpool2d_fwd_vec4_2x2: Keras' default pool (2x2, stride 2) when every window lies inside the
// image (no padding). Straight-line code without bounds tests, in the block layout below.
// maxpool2d_fwd_vec4_2x2_max is the same without the winners, for inputs that need no gradient
// (one of its two stores per output: the backward will never run).

/** Output vec4 i of a 2x2 stride-2 pool: its maximum and (first) winners. */
fn pool2x2(i: u32) -> Pooled {
  let w = window2x2(i);
  let at = w.image + w.pos * w.c4 + w.group;
  let row = pool_p.w * w.c4;
  let v = array<vec4f, 4>(fwd4_x[at], fwd4_x[at + w.c4], fwd4_x[at + row], fwd4_x[at + row + w.c4]);
  var best = v[0];
  var best_at = vec4u(w.cell[0] * pool_p.c) + w.lanes;
  for (var k = 1u; k < 4u; k++) {
    // strict: an equal value later in the window does not replace the first
    let wins = (v[k] > best) | is_nan4(v[k]);
    best = select(best, v[k], wins);
    best_at = select(best_at, vec4u(w.cell[k] * pool_p.c) + w.lanes, wins);
  }
  return Pooled(best, best_at);
}

struct Pooled { best: vec4f, at: vec4u }

@compute @workgroup_size(WG)
fn maxpool2d_fwd_vec4_2x2(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = span(gid, nwg);
  for (var i = s.x; i < s.y; i += RUN) {
    let r = pool2x2(i);
    fwd4_y[i] = r.best;
    fwd4_arg[i] = r.at;
  }
}

@compute @workgroup_size(WG)
fn maxpool2d_fwd_vec4_2x2_max(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = span(gid, nwg);
  for (var i = s.x; i < s.y; i += RUN) { fwd4_y[i] = pool2x2(i).best; }
}

// maxpool2d_bwd: one input element per invocation
@group(0) @binding(0) var<storage, read> bwd_dy: array<f32>;
@group(0) @binding(1) var<storage, read> bwd_arg: array<u32>;
@group(0) @binding(2) var<storage, read_write> bwd_dx: array<f32>;

@compute @workgroup_size(WG)
fn maxpool2d_bwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= pool_p.n) { return; }
  let c = pool_p.c;
  let image_size = pool_p.h * pool_p.w * c;
  let at = i % image_size; // this element's flat index within its image
  let image = i / image_size;
  let ch = at % c;
  let pixel = at / c;
  let ix = pixel % pool_p.w;
  let iy = pixel / pool_p.w;
  let rows = covering(iy, pool_p.pad_top, pool_p.ph, pool_p.sh, pool_p.oh);
  let cols = covering(ix, pool_p.pad_left, pool_p.pw, pool_p.sw, pool_p.ow);
  let out_image = image * pool_p.oh * pool_p.ow * c;
  var acc = 0.0;
  for (var oy = rows.x; oy <= rows.y; oy++) {
    for (var ox = cols.x; ox <= cols.y; ox++) {
      let o = out_image + (oy * pool_p.ow + ox) * c + ch;
      if (bwd_arg[o] == at) { acc += bwd_dy[o]; }
    }
  }
  bwd_dx[i] = acc;
}

// maxpool2d_bwd_vec4: 4 channels of one input pixel per invocation
@group(0) @binding(0) var<storage, read> bwd4_dy: array<vec4f>;
@group(0) @binding(1) var<storage, read> bwd4_arg: array<vec4u>;
@group(0) @binding(2) var<storage, read_write> bwd4_dx: array<vec4f>;

@compute @workgroup_size(WG)
fn maxpool2d_bwd_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= pool_p.n) { return; }
  let c4 = pool_p.c / 4u;
  let image_size = pool_p.h * pool_p.w * c4;
  let at4 = i % image_size;
  let image = i / image_size;
  let group = at4 % c4;
  let pixel = at4 / c4;
  let ix = pixel % pool_p.w;
  let iy = pixel / pool_p.w;
  let at = vec4u(pixel * pool_p.c + group * 4u) + vec4u(0u, 1u, 2u, 3u);
  let rows = covering(iy, pool_p.pad_top, pool_p.ph, pool_p.sh, pool_p.oh);
  let cols = covering(ix, pool_p.pad_left, pool_p.pw, pool_p.sw, pool_p.ow);
  let out_image = image * pool_p.oh * pool_p.ow * c4;
  var acc = vec4f(0.0);
  for (var oy = rows.x; oy <= rows.y; oy++) {
    for (var ox = cols.x; ox <= cols.y; ox++) {
      let o = out_image + (oy * pool_p.ow + ox) * c4 + group;
      acc += select(vec4f(0.0), bwd4_dy[o], bwd4_arg[o] == at);
    }
  }
  bwd4_dx[i] = acc;
}

// The _tile entry points: windows that do not overlap (stride >= pool). One invocation per output
// writes the input cells it owns, from its window's start up to the next window's start (the
// first and last windows also own the edges), so every input cell is written exactly once: dy at
// the winner, 0 elsewhere. A quarter of the invocations of the gather above, for 2x2 pools.

// The input rows [y0, y1) and columns [x0, x1) owned by output pixel (oy, ox).
fn owned(oy: u32, ox: u32) -> Window {
  return Window(
    select(oy * pool_p.sh - pool_p.pad_top, 0u, oy == 0u),
    select((oy + 1u) * pool_p.sh - pool_p.pad_top, pool_p.h, oy + 1u == pool_p.oh),
    select(ox * pool_p.sw - pool_p.pad_left, 0u, ox == 0u),
    select((ox + 1u) * pool_p.sw - pool_p.pad_left, pool_p.w, ox + 1u == pool_p.ow),
  );
}

// maxpool2d_bwd_tile: one output element per invocation (bindings as maxpool2d_bwd)
@compute @workgroup_size(WG)
fn maxpool2d_bwd_tile(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= pool_p.n) { return; }
  let c = pool_p.c;
  let ch = i % c;
  let pixel = i / c;
  let ox = pixel % pool_p.ow;
  let rest = pixel / pool_p.ow;
  let oy = rest % pool_p.oh;
  let image = (rest / pool_p.oh) * pool_p.h * pool_p.w * c;
  let winner = bwd_arg[i];
  let grad = bwd_dy[i];
  let tile = owned(oy, ox);
  for (var y = tile.y0; y < tile.y1; y++) {
    for (var x = tile.x0; x < tile.x1; x++) {
      let at = (y * pool_p.w + x) * c + ch;
      bwd_dx[image + at] = select(0.0, grad, winner == at);
    }
  }
}

// maxpool2d_bwd_tile_vec4: 4 channels of one output pixel per invocation (bindings as maxpool2d_bwd_vec4)
@compute @workgroup_size(WG)
fn maxpool2d_bwd_tile_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= pool_p.n) { return; }
  let c4 = pool_p.c / 4u;
  let group = i % c4;
  let pixel = i / c4;
  let ox = pixel % pool_p.ow;
  let rest = pixel / pool_p.ow;
  let oy = rest % pool_p.oh;
  let image = (rest / pool_p.oh) * pool_p.h * pool_p.w * c4;
  let lanes = vec4u(0u, 1u, 2u, 3u) + group * 4u;
  let winner = bwd4_arg[i];
  let grad = bwd4_dy[i];
  let tile = owned(oy, ox);
  for (var y = tile.y0; y < tile.y1; y++) {
    for (var x = tile.x0; x < tile.x1; x++) {
      let pos = y * pool_p.w + x;
      bwd4_dx[image + pos * c4 + group] = select(vec4f(0.0), grad, winner == vec4u(pos * pool_p.c) + lanes);
    }
  }
}

// maxpool2d_bwd_tile_vec4_2x2: 2x2 windows with stride 2 that tile the image exactly (h = 2 oh,
// w = 2 ow): each output owns its 4 cells, written without bounds tests, in the block layout
// below. Bindings as maxpool2d_bwd_vec4.
@compute @workgroup_size(WG)
fn maxpool2d_bwd_tile_vec4_2x2(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = span(gid, nwg);
  for (var i = s.x; i < s.y; i += RUN) {
    let w = window2x2(i);
    let winner = bwd4_arg[i];
    let grad = bwd4_dy[i];
    for (var k = 0u; k < 4u; k++) {
      bwd4_dx[w.image + w.cell[k] * w.c4 + w.group] = select(vec4f(0.0), grad, winner == vec4u(w.cell[k] * pool_p.c) + w.lanes);
    }
  }
}
