// 2-D convolution, NHWC images and [kh, kw, inC, outC] filters, as implicit GEMMs with register
// tiles (no im2col buffer, no workgroup memory):
//   forward         y[pixel, co]         = sum over (ky, kx, ci) of x[...] * w[ky, kx, ci, co]
//   input gradient  dx[pixel, ci]        = sum over (ky, kx, co) of dy[...] * w[ky, kx, ci, co]
//   filter gradient dw[(ky, kx, ci), co] = sum over (n, oy, ox) of x[...] * dy[n, oy, ox, co],
//                   one partial sum per slice of output rows (the op adds the slices up).
// On lavapipe (software Vulkan) a storage load or store costs a bounds-checked loop over the lanes,
// ~50x a multiply-add, so what counts is loads per multiply-add:
// - out_c % 4 == 0 (vec4 loads along channels): strips of 8-16 pixels along one row by 16 output
//   channels (forward) or 1-4 input channels (input gradient); with stride 1 across, the inputs
//   under a strip slide by one per filter column, so a step loads one new value, not one per
//   pixel. Edge strips start early and repeat channels instead of branching around stores.
// - the filter gradient and out_c % 4 != 0: tiles of 4 pixels (or filter rows) by 4 or 8
//   channels; edge tiles clamp their reads and skip their writes.
// The op binds one batch chunk at a time; x_off / y_off locate the chunk inside its bindings
// (binding offsets must be 256-byte aligned, chunk starts need not be).

override WG: u32 = 64;

// ---- shared: conv2d-forward-subgroup.ts and (through src/kernels.ts) conv2d-subgroup.wgsl use this block ----
struct Conv {
  batch: u32, // images in this chunk
  in_h: u32,
  in_w: u32,
  in_c: u32,
  out_h: u32,
  out_w: u32,
  out_c: u32,
  k_h: u32,
  k_w: u32,
  stride_h: u32,
  stride_w: u32,
  pad_top: u32,
  pad_left: u32,
  x_off: u32, // elements before the chunk in the input-sized binding (x or dx)
  y_off: u32, // ... in the output-sized binding (y or dy)
  has_bias: u32,
  relu: u32,
  slice_rows: u32, // filter gradient: output rows (n, oy) per partial sum
  out_row: u32, // filter gradient: partial-sum row of this chunk's first slice
}

@group(1) @binding(0) var<uniform> p: Conv;

// relu that keeps NaN (see shaders/elementwise.wgsl)
fn relu4(v: vec4f) -> vec4f { return select(v, vec4f(0.0), v < vec4f(0.0)); }
// ---- end shared ----

const LANES = vec4u(0u, 1u, 2u, 3u);
const PIXELS = 4u; // pixels (or filter rows) per invocation of the 4-pixel tiles

fn flat(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

/** Four consecutive indices from `first`, clamped to `count - 1` so edge tiles read in bounds. */
fn four(first: u32, count: u32) -> vec4u { return min(vec4u(first) + LANES, vec4u(count - 1u)); }

// ---- forward: x [n, in_h, in_w, in_c], w, b [out_c] -> y [n, out_h, out_w, out_c] ----

/** An output pixel's window: where its image starts in x, and its top-left input position. */
struct Window { image: i32, top: i32, left: i32 }

fn window(m: u32) -> Window {
  let n = m / (p.out_h * p.out_w);
  let oy = (m / p.out_w) % p.out_h;
  let ox = m % p.out_w;
  return Window(i32(n * p.in_h * p.in_w * p.in_c + p.x_off), i32(oy * p.stride_h) - i32(p.pad_top), i32(ox * p.stride_w) - i32(p.pad_left));
}

/** Index in x of channel 0 under filter tap (ky, kx) of a window; -1 in the zero padding. */
fn window_tap(win: Window, ky: i32, kx: i32) -> i32 {
  let iy = win.top + ky;
  let ix = win.left + kx;
  let inside = iy >= 0 && iy < i32(p.in_h) && ix >= 0 && ix < i32(p.in_w);
  return select(-1, win.image + (iy * i32(p.in_w) + ix) * i32(p.in_c), inside);
}

@group(0) @binding(0) var<storage, read> fwd_x: array<f32>;
@group(0) @binding(1) var<storage, read> fwd_w: array<f32>;
@group(0) @binding(2) var<storage, read> fwd_b: array<f32>;
@group(0) @binding(3) var<storage, read_write> fwd_y: array<f32>;

fn fwd_x_at(i: i32) -> f32 { return select(0.0, fwd_x[max(i, 0)], i >= 0); }

fn epilogue(v: vec4f) -> vec4f { return select(v, relu4(v), p.relu != 0u); }

// gid.x/y (folded): 4 output pixels; workgroup z: 4 output channels
@compute @workgroup_size(WG)
fn conv2d_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let count = p.batch * p.out_h * p.out_w;
  let first = flat(gid, nwg) * PIXELS;
  if (first >= count) { return; }
  let co = wid.z * 4u;
  let cols = four(co, p.out_c);
  var win: array<Window, PIXELS>;
  for (var i = 0u; i < PIXELS; i++) { win[i] = window(min(first + i, count - 1u)); }

  var acc: array<vec4f, PIXELS>; // [pixel] = channels co..co+3
  for (var ky = 0; ky < i32(p.k_h); ky++) {
    for (var kx = 0; kx < i32(p.k_w); kx++) {
      var xi: array<i32, PIXELS>;
      for (var i = 0u; i < PIXELS; i++) { xi[i] = window_tap(win[i], ky, kx); }
      var wi = u32(ky * i32(p.k_w) + kx) * p.in_c * p.out_c;
      for (var ci = 0; ci < i32(p.in_c); ci++) {
        let wv = vec4f(fwd_w[wi + cols.x], fwd_w[wi + cols.y], fwd_w[wi + cols.z], fwd_w[wi + cols.w]);
        for (var i = 0u; i < PIXELS; i++) { acc[i] += fwd_x_at(select(-1, xi[i] + ci, xi[i] >= 0)) * wv; }
        wi += p.out_c;
      }
    }
  }
  var bias = vec4f(0.0);
  if (p.has_bias != 0u) { bias = vec4f(fwd_b[cols.x], fwd_b[cols.y], fwd_b[cols.z], fwd_b[cols.w]); }
  for (var i = 0u; i < PIXELS; i++) {
    if (first + i >= count) { break; }
    let v = epilogue(acc[i] + bias);
    let base = p.y_off + (first + i) * p.out_c + co;
    for (var j = 0u; j < 4u; j++) {
      if (co + j < p.out_c) { fwd_y[base + j] = v[j]; }
    }
  }
}

// ---- forward with out_c % 4 == 0: strips of output pixels by 16 channels ----
// An invocation computes STRIP pixels of one output row (or SHORT_STRIP in conv2d_fwd_vec4) by
// 4 groups of 4 channels, so each weight load (a vec4, the same for all the strip's pixels) feeds
// STRIP multiply-adds. On lavapipe, loads cost far more than arithmetic: a vec4 load per lane is
// a bounds-checked loop, ~50x a multiply-add. The last strip of a row starts early so that it
// stays inside the row, and channel groups past out_c repeat the last one: edge tiles recompute
// outputs another tile also writes, with the same values, instead of branching around stores.

const STRIP = 16u;
const SHORT_STRIP = 8u;

@group(0) @binding(1) var<storage, read> fwd4_w: array<vec4f>;
@group(0) @binding(2) var<storage, read> fwd4_b: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> fwd4_y: array<vec4f>;

/** A tile: its output row (n * out_h + oy), first column, and 4 channel groups (vec4 indices). */
struct Strip { row: u32, first: u32, cols: vec4u }

fn fwd_strip(gid: vec3u, nwg: vec3u, strip_len: u32) -> Strip {
  let out_c4 = p.out_c / 4u;
  let groups = (out_c4 + 3u) / 4u;
  let strips = (p.out_w + strip_len - 1u) / strip_len;
  // lanes past the last tile redo it (uniform control flow, identical stores)
  let t = min(flat(gid, nwg), p.batch * p.out_h * strips * groups - 1u);
  let group = t % groups;
  let s = t / groups;
  let first = min((s % strips) * strip_len, max(p.out_w, strip_len) - strip_len);
  return Strip(s / strips, first, min(vec4u(group * 4u) + LANES, vec4u(out_c4 - 1u)));
}

/** The 4 channel groups' weights for filter row `row` (ky, kx, ci) as matrix columns. */
fn fwd4_weights(row: u32, cols: vec4u) -> mat4x4f {
  let at = row * (p.out_c / 4u);
  return mat4x4f(fwd4_w[at + cols.x], fwd4_w[at + cols.y], fwd4_w[at + cols.z], fwd4_w[at + cols.w]);
}

fn fwd4_store(tile: Strip, i: u32, acc: mat4x4f, bias: mat4x4f) {
  // past out_w (conv2d_fwd_vec4 on rows shorter than its strip) pixel i repeats the last column
  let at = p.y_off / 4u + (tile.row * p.out_w + min(tile.first + i, p.out_w - 1u)) * (p.out_c / 4u);
  fwd4_y[at + tile.cols.x] = epilogue(acc[0] + bias[0]);
  fwd4_y[at + tile.cols.y] = epilogue(acc[1] + bias[1]);
  fwd4_y[at + tile.cols.z] = epilogue(acc[2] + bias[2]);
  fwd4_y[at + tile.cols.w] = epilogue(acc[3] + bias[3]);
}

fn fwd4_bias(cols: vec4u) -> mat4x4f {
  if (p.has_bias == 0u) { return mat4x4f(); }
  return mat4x4f(fwd4_b[cols.x], fwd4_b[cols.y], fwd4_b[cols.z], fwd4_b[cols.w]);
}

/** x at column ix of the row starting at `line` (channel included); 0 in the padding. */
fn fwd_x_col(line: i32, ix: i32, row_ok: bool) -> f32 {
  let inside = row_ok && ix >= 0 && ix < i32(p.in_w);
  return select(0.0, fwd_x[select(0, line + ix * i32(p.in_c), inside)], inside);
}

// stride_w == 1 and out_w >= STRIP. Pixel i meets tap kx at input column first + i + kx - pad:
// stepping kx shifts the strip's inputs by one, so each (ky, kx, ci) loads 1 input, not STRIP.
// gid.x/y (folded): tile = (strip, channel group)
@compute @workgroup_size(WG)
fn conv2d_fwd_slide(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let tile = fwd_strip(gid, nwg, STRIP);
  let n = tile.row / p.out_h;
  let top = i32((tile.row % p.out_h) * p.stride_h) - i32(p.pad_top);
  let left = i32(tile.first) - i32(p.pad_left);
  let image = i32(n * p.in_h * p.in_w * p.in_c + p.x_off);
  var acc: array<mat4x4f, STRIP>; // [pixel] columns = channel groups
  for (var ky = 0u; ky < p.k_h; ky++) {
    let iy = top + i32(ky);
    let row_ok = iy >= 0 && iy < i32(p.in_h);
    let line = image + iy * i32(p.in_w * p.in_c);
    for (var ci = 0u; ci < p.in_c; ci++) {
      // xs[i] = input under pixel i's current tap; preload all but the last for kx = 0
      var xs: array<f32, STRIP>;
      for (var i = 1u; i < STRIP; i++) { xs[i] = fwd_x_col(line + i32(ci), left + i32(i) - 1, row_ok); }
      for (var kx = 0u; kx < p.k_w; kx++) {
        for (var i = 0u; i + 1u < STRIP; i++) { xs[i] = xs[i + 1u]; }
        xs[STRIP - 1u] = fwd_x_col(line + i32(ci), left + i32(STRIP - 1u + kx), row_ok);
        let wm = fwd4_weights((ky * p.k_w + kx) * p.in_c + ci, tile.cols);
        for (var i = 0u; i < STRIP; i++) { acc[i] += xs[i] * wm; }
      }
    }
  }
  let bias = fwd4_bias(tile.cols);
  for (var i = 0u; i < STRIP; i++) { fwd4_store(tile, i, acc[i], bias); }
}

// 3x3 at stride 1 without subgroups (SwiftShader, GPUs), for input channels not in fours (an
// image's 1 or 3): 8 pixels of an output row by 8 channels per invocation, with every
// accumulator a named register (the strips above keep theirs in arrays, which SwiftShader holds
// in memory): per (ky, ci) 10 inputs and 6 weight vec4s feed 192 multiply-adds. The last strip
// of a row starts early (out_w >= 8); a second channel group past out_c repeats the first.
// gid.x/y (folded): tile = (8 pixels of a row, 8 channels)
@compute @workgroup_size(WG)
fn conv2d_fwd_row8(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let out_c4 = p.out_c / 4u;
  let groups = (out_c4 + 1u) / 2u;
  let strips = (p.out_w + 7u) / 8u;
  let t = min(flat(gid, nwg), p.batch * p.out_h * strips * groups - 1u);
  let col = (t % groups) * 2u;
  let g = select(0u, 1u, col + 1u < out_c4); // the second channel group, or the first again
  let s = t / groups;
  let row = s / strips; // n * out_h + oy
  let first = min((s % strips) * 8u, p.out_w - 8u);
  let n = row / p.out_h;
  let top = i32(row % p.out_h) - i32(p.pad_top);
  let left = i32(first) - i32(p.pad_left);
  let image = i32(n * p.in_h * p.in_w * p.in_c + p.x_off);
  // pixel i: c_i (channels of col), d_i (of col + g)
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  var c4 = vec4f(0.0); var c5 = vec4f(0.0); var c6 = vec4f(0.0); var c7 = vec4f(0.0);
  var d0 = vec4f(0.0); var d1 = vec4f(0.0); var d2 = vec4f(0.0); var d3 = vec4f(0.0);
  var d4 = vec4f(0.0); var d5 = vec4f(0.0); var d6 = vec4f(0.0); var d7 = vec4f(0.0);
  for (var ky = 0u; ky < 3u; ky++) {
    let iy = top + i32(ky);
    let row_ok = iy >= 0 && iy < i32(p.in_h);
    let line = image + iy * i32(p.in_w * p.in_c);
    for (var ci = 0u; ci < p.in_c; ci++) {
      let x0 = fwd_x_col(line + i32(ci), left + 0, row_ok);
      let x1 = fwd_x_col(line + i32(ci), left + 1, row_ok);
      let x2 = fwd_x_col(line + i32(ci), left + 2, row_ok);
      let x3 = fwd_x_col(line + i32(ci), left + 3, row_ok);
      let x4 = fwd_x_col(line + i32(ci), left + 4, row_ok);
      let x5 = fwd_x_col(line + i32(ci), left + 5, row_ok);
      let x6 = fwd_x_col(line + i32(ci), left + 6, row_ok);
      let x7 = fwd_x_col(line + i32(ci), left + 7, row_ok);
      let x8 = fwd_x_col(line + i32(ci), left + 8, row_ok);
      let x9 = fwd_x_col(line + i32(ci), left + 9, row_ok);
      // weights of taps (ky, 0..2, ci): filter rows 3 * ky * in_c + ci + kx * in_c
      let wr = ((3u * ky * p.in_c + ci) * out_c4) + col;
      let tap = p.in_c * out_c4;
      let w0 = fwd4_w[wr]; let w1 = fwd4_w[wr + tap]; let w2 = fwd4_w[wr + 2u * tap];
      let v0 = fwd4_w[wr + g]; let v1 = fwd4_w[wr + tap + g]; let v2 = fwd4_w[wr + 2u * tap + g];
      c0 += x0 * w0 + x1 * w1 + x2 * w2; d0 += x0 * v0 + x1 * v1 + x2 * v2;
      c1 += x1 * w0 + x2 * w1 + x3 * w2; d1 += x1 * v0 + x2 * v1 + x3 * v2;
      c2 += x2 * w0 + x3 * w1 + x4 * w2; d2 += x2 * v0 + x3 * v1 + x4 * v2;
      c3 += x3 * w0 + x4 * w1 + x5 * w2; d3 += x3 * v0 + x4 * v1 + x5 * v2;
      c4 += x4 * w0 + x5 * w1 + x6 * w2; d4 += x4 * v0 + x5 * v1 + x6 * v2;
      c5 += x5 * w0 + x6 * w1 + x7 * w2; d5 += x5 * v0 + x6 * v1 + x7 * v2;
      c6 += x6 * w0 + x7 * w1 + x8 * w2; d6 += x6 * v0 + x7 * v1 + x8 * v2;
      c7 += x7 * w0 + x8 * w1 + x9 * w2; d7 += x7 * v0 + x8 * v1 + x9 * v2;
    }
  }
  var bv = vec4f(0.0);
  var bw = vec4f(0.0);
  if (p.has_bias != 0u) {
    bv = fwd4_b[col];
    bw = fwd4_b[col + g];
  }
  let y = p.y_off / 4u + (row * p.out_w + first) * out_c4 + col;
  fwd4_y[y + 0u * out_c4] = epilogue(c0 + bv); fwd4_y[y + 0u * out_c4 + g] = epilogue(d0 + bw);
  fwd4_y[y + 1u * out_c4] = epilogue(c1 + bv); fwd4_y[y + 1u * out_c4 + g] = epilogue(d1 + bw);
  fwd4_y[y + 2u * out_c4] = epilogue(c2 + bv); fwd4_y[y + 2u * out_c4 + g] = epilogue(d2 + bw);
  fwd4_y[y + 3u * out_c4] = epilogue(c3 + bv); fwd4_y[y + 3u * out_c4 + g] = epilogue(d3 + bw);
  fwd4_y[y + 4u * out_c4] = epilogue(c4 + bv); fwd4_y[y + 4u * out_c4 + g] = epilogue(d4 + bw);
  fwd4_y[y + 5u * out_c4] = epilogue(c5 + bv); fwd4_y[y + 5u * out_c4 + g] = epilogue(d5 + bw);
  fwd4_y[y + 6u * out_c4] = epilogue(c6 + bv); fwd4_y[y + 6u * out_c4 + g] = epilogue(d6 + bw);
  fwd4_y[y + 7u * out_c4] = epilogue(c7 + bv); fwd4_y[y + 7u * out_c4 + g] = epilogue(d7 + bw);
}

// Any strides and widths: each pixel of a SHORT_STRIP strip loads its own input per tap.
// gid.x/y (folded): tile = (strip, channel group)
@compute @workgroup_size(WG)
fn conv2d_fwd_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let tile = fwd_strip(gid, nwg, SHORT_STRIP);
  let n = tile.row / p.out_h;
  let top = i32((tile.row % p.out_h) * p.stride_h) - i32(p.pad_top);
  let image = i32(n * p.in_h * p.in_w * p.in_c + p.x_off);
  var left: array<i32, SHORT_STRIP>; // each pixel's window's first column
  for (var i = 0u; i < SHORT_STRIP; i++) { left[i] = i32(min(tile.first + i, p.out_w - 1u) * p.stride_w) - i32(p.pad_left); }
  var acc: array<mat4x4f, SHORT_STRIP>;
  for (var ky = 0u; ky < p.k_h; ky++) {
    let iy = top + i32(ky);
    let row_ok = iy >= 0 && iy < i32(p.in_h);
    let line = image + iy * i32(p.in_w * p.in_c);
    for (var kx = 0u; kx < p.k_w; kx++) {
      for (var ci = 0u; ci < p.in_c; ci++) {
        let wm = fwd4_weights((ky * p.k_w + kx) * p.in_c + ci, tile.cols);
        for (var i = 0u; i < SHORT_STRIP; i++) { acc[i] += fwd_x_col(line + i32(ci), left[i] + i32(kx), row_ok) * wm; }
      }
    }
  }
  let bias = fwd4_bias(tile.cols);
  for (var i = 0u; i < SHORT_STRIP; i++) { fwd4_store(tile, i, acc[i], bias); }
}

// ---- input gradient: dy [n, out_h, out_w, out_c], w -> dx [n, in_h, in_w, in_c] ----
// Input pixel (iy, ix) meets filter tap (ky, kx) at output (oy, ox) when
// oy * stride_h + ky - pad_top = iy, i.e. iy + pad_top - ky is a multiple of stride_h.

/** An input pixel: where its image starts in dy, and its position in the padded input. */
struct Source { image: i32, py: i32, px: i32 }

fn source(m: u32) -> Source {
  let n = m / (p.in_h * p.in_w);
  let iy = (m / p.in_w) % p.in_h;
  let ix = m % p.in_w;
  return Source(i32(n * p.out_h * p.out_w * p.out_c + p.y_off), i32(iy + p.pad_top), i32(ix + p.pad_left));
}

/** Index in dy of channel 0 of the output that tap (ky, kx) took this pixel to; -1 if none. */
fn source_tap(src: Source, ky: i32, kx: i32) -> i32 {
  let ty = src.py - ky;
  let tx = src.px - kx;
  let sh = i32(p.stride_h);
  let sw = i32(p.stride_w);
  let oy = ty / sh;
  let ox = tx / sw;
  let hit = ty >= 0 && tx >= 0 && ty % sh == 0 && tx % sw == 0 && oy < i32(p.out_h) && ox < i32(p.out_w);
  return select(-1, src.image + (oy * i32(p.out_w) + ox) * i32(p.out_c), hit);
}

@group(0) @binding(0) var<storage, read> bin_dy: array<f32>;
@group(0) @binding(1) var<storage, read> bin_w: array<f32>;
@group(0) @binding(2) var<storage, read_write> bin_dx: array<f32>;

fn store_dx(pixel: u32, ci: u32, v: vec4f) {
  let base = p.x_off + pixel * p.in_c + ci;
  for (var j = 0u; j < 4u; j++) {
    if (ci + j < p.in_c) { bin_dx[base + j] = v[j]; }
  }
}

// gid.x/y (folded): 4 input pixels; workgroup z: 4 input channels
@compute @workgroup_size(WG)
fn conv2d_bwd_input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let count = p.batch * p.in_h * p.in_w;
  let first = flat(gid, nwg) * PIXELS;
  if (first >= count) { return; }
  let ci = wid.z * 4u;
  let chans = four(ci, p.in_c);
  var src: array<Source, PIXELS>;
  for (var i = 0u; i < PIXELS; i++) { src[i] = source(min(first + i, count - 1u)); }

  var acc: array<vec4f, PIXELS>; // [pixel] = channels ci..ci+3
  for (var ky = 0; ky < i32(p.k_h); ky++) {
    for (var kx = 0; kx < i32(p.k_w); kx++) {
      var di: array<i32, PIXELS>;
      for (var i = 0u; i < PIXELS; i++) { di[i] = source_tap(src[i], ky, kx); }
      // w[ky, kx, ci + j, co] for the four channels, out_c apart
      var wi = (vec4u(u32(ky * i32(p.k_w) + kx) * p.in_c) + chans) * p.out_c;
      for (var co = 0; co < i32(p.out_c); co++) {
        let wv = vec4f(bin_w[wi.x], bin_w[wi.y], bin_w[wi.z], bin_w[wi.w]);
        for (var i = 0u; i < PIXELS; i++) { acc[i] += select(0.0, bin_dy[max(di[i] + co, 0)], di[i] >= 0) * wv; }
        wi += vec4u(1u);
      }
    }
  }
  for (var i = 0u; i < PIXELS; i++) {
    if (first + i < count) { store_dx(first + i, ci, acc[i]); }
  }
}

@group(0) @binding(0) var<storage, read> bin4_dy: array<vec4f>;
@group(0) @binding(1) var<storage, read> bin4_w: array<vec4f>;

// out_c % 4 == 0 where the strips below do not apply (stride 2 across, rows under STRIP): each
// step is a dot product over 4 output channels of dy and of w.
// gid.x/y (folded): 4 input pixels; workgroup z: 4 input channels
@compute @workgroup_size(WG)
fn conv2d_bwd_input_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let count = p.batch * p.in_h * p.in_w;
  let first = flat(gid, nwg) * PIXELS;
  if (first >= count) { return; }
  let out_c4 = i32(p.out_c / 4u);
  let ci = wid.z * 4u;
  let chans = four(ci, p.in_c);
  var src: array<Source, PIXELS>;
  for (var i = 0u; i < PIXELS; i++) { src[i] = source(min(first + i, count - 1u)); }

  var acc: array<vec4f, PIXELS>; // [pixel] = channels ci..ci+3
  for (var ky = 0; ky < i32(p.k_h); ky++) {
    for (var kx = 0; kx < i32(p.k_w); kx++) {
      var di: array<i32, PIXELS>; // in vec4s; -1: no output
      for (var i = 0u; i < PIXELS; i++) {
        let d = source_tap(src[i], ky, kx);
        di[i] = select(-1, d / 4, d >= 0);
      }
      // rows w[ky, kx, ci + j, :] of the four channels, in vec4s
      let wi = vec4i((vec4u(u32(ky * i32(p.k_w) + kx) * p.in_c) + chans) * p.out_c / 4u);
      for (var co4 = 0; co4 < out_c4; co4++) {
        let w0 = bin4_w[wi.x + co4];
        let w1 = bin4_w[wi.y + co4];
        let w2 = bin4_w[wi.z + co4];
        let w3 = bin4_w[wi.w + co4];
        for (var i = 0u; i < PIXELS; i++) {
          let d = select(vec4f(0.0), bin4_dy[max(di[i] + co4, 0)], di[i] >= 0);
          acc[i] += vec4f(dot(d, w0), dot(d, w1), dot(d, w2), dot(d, w3));
        }
      }
    }
  }
  for (var i = 0u; i < PIXELS; i++) {
    if (first + i < count) { store_dx(first + i, ci, acc[i]); }
  }
}

// ---- input gradient, stride_w == 1, out_c % 4 == 0, in_w >= STRIP: strips by 1-4 channels ----
// Like the forward pass with dy as the input: an invocation sums STRIP input pixels of one row
// by `chans` (1 to 4) input channels, dotting 4 output channels at a time. Pixel i meets tap kx at
// dy column first + i + pad_left - kx: walking kx down from k_w - 1 shifts the strip's dy vec4s
// by one, so each (ky, co4, kx) loads 1 of them. One entry point per channel count: a layer with
// 1 or 3 input channels computes no padding channels.

/** dy (vec4 of channels) at output column ox of the output row starting at `line`; 0 outside. */
fn slide_dy(line: i32, ox: i32, row_ok: bool) -> vec4f {
  let inside = row_ok && ox >= 0 && ox < i32(p.out_w);
  return select(vec4f(0.0), bin4_dy[select(0, line + ox * i32(p.out_c / 4u), inside)], inside);
}

fn bwd_input_slide(gid: vec3u, nwg: vec3u, chans: u32) {
  let out_c4 = p.out_c / 4u;
  let groups = (p.in_c + chans - 1u) / chans;
  let strips = (p.in_w + STRIP - 1u) / STRIP;
  let t = min(flat(gid, nwg), p.batch * p.in_h * strips * groups - 1u);
  let group = t % groups;
  let s = t / groups;
  let row = s / strips; // n * in_h + iy
  let first = min((s % strips) * STRIP, p.in_w - STRIP);
  // channel groups past in_c repeat the last channel (identical stores)
  let ci = min(vec4u(group * chans) + LANES, vec4u(p.in_c - 1u));
  let n = row / p.in_h;
  let py = i32(row % p.in_h + p.pad_top); // the row in padded coordinates
  let left = i32(first + p.pad_left) - i32(p.k_w - 1u);
  var acc: array<vec4f, STRIP>; // [pixel] = channels ci
  for (var ky = 0u; ky < p.k_h; ky++) {
    let ty = py - i32(ky);
    let oy = ty / i32(p.stride_h);
    let row_ok = ty >= 0 && ty % i32(p.stride_h) == 0 && oy < i32(p.out_h);
    let line = i32(p.y_off / 4u) + (i32(n * p.out_h) + oy) * i32(p.out_w * out_c4);
    for (var co4 = 0u; co4 < out_c4; co4++) {
      var ds: array<vec4f, STRIP>; // ds[i] = dy under pixel i's current tap
      for (var i = 1u; i < STRIP; i++) { ds[i] = slide_dy(line + i32(co4), left + i32(i) - 1, row_ok); }
      for (var b = 0u; b < p.k_w; b++) {
        for (var i = 0u; i + 1u < STRIP; i++) { ds[i] = ds[i + 1u]; }
        ds[STRIP - 1u] = slide_dy(line + i32(co4), left + i32(STRIP - 1u + b), row_ok);
        // rows w[ky, kx, ci, :] of this tap, in vec4s
        let wrow = (ky * p.k_w + p.k_w - 1u - b) * p.in_c;
        var wv: array<vec4f, 4>;
        for (var j = 0u; j < chans; j++) { wv[j] = bin4_w[(wrow + ci[j]) * out_c4 + co4]; }
        for (var i = 0u; i < STRIP; i++) {
          for (var j = 0u; j < chans; j++) { acc[i][j] += dot(ds[i], wv[j]); }
        }
      }
    }
  }
  let base = p.x_off + (row * p.in_w + first) * p.in_c;
  for (var i = 0u; i < STRIP; i++) {
    for (var j = 0u; j < chans; j++) { bin_dx[base + i * p.in_c + ci[j]] = acc[i][j]; }
  }
}

// gid.x/y (folded): tile = (strip, channel group)
@compute @workgroup_size(WG)
fn conv2d_bwd_input_slide1(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) { bwd_input_slide(gid, nwg, 1u); }
@compute @workgroup_size(WG)
fn conv2d_bwd_input_slide2(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) { bwd_input_slide(gid, nwg, 2u); }
@compute @workgroup_size(WG)
fn conv2d_bwd_input_slide3(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) { bwd_input_slide(gid, nwg, 3u); }
@compute @workgroup_size(WG)
fn conv2d_bwd_input_slide4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) { bwd_input_slide(gid, nwg, 4u); }

// One input channel, stride 1, k_h <= 3 (an image input's gradient): blocks of RING_ROWS rows of
// STRIP pixels. Each dy row is loaded once per block and feeds the (up to 3) input rows its taps
// reach, held in a ring of accumulators: slot s sums input row oy - pad_top + s. After dy row oy,
// slot 0 has all its taps: it is stored and the ring turns. Against the row strips above, which
// load each dy row once per tap row, this halves the loads (measured 1.3-1.7x faster).
const RING_ROWS = 4u;

@compute @workgroup_size(WG)
fn conv2d_bwd_input_ring1(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let out_c4 = p.out_c / 4u;
  let strips = (p.in_w + STRIP - 1u) / STRIP;
  let blocks = (p.in_h + RING_ROWS - 1u) / RING_ROWS;
  let t = min(flat(gid, nwg), p.batch * blocks * strips - 1u);
  let first = min((t % strips) * STRIP, p.in_w - STRIP);
  let block = t / strips;
  let n = block / blocks;
  // the last block starts early to stay inside the image (its rows are stored twice, equal)
  let iy0 = min((block % blocks) * RING_ROWS, max(p.in_h, RING_ROWS) - RING_ROWS);
  let iy_end = min(iy0 + RING_ROWS, p.in_h);
  let left = i32(first + p.pad_left) - i32(p.k_w - 1u);
  let tap_row = p.k_w * out_c4; // vec4s between taps (ky, kx) and (ky + 1, kx) of the filter
  var ring0: array<f32, STRIP>;
  var ring1: array<f32, STRIP>;
  var ring2: array<f32, STRIP>;
  // the dy rows whose taps reach rows iy0 .. iy_end - 1
  for (var oy = i32(iy0 + p.pad_top) - i32(p.k_h - 1u); oy < i32(iy_end + p.pad_top); oy++) {
    let row_ok = oy >= 0 && oy < i32(p.out_h);
    let line = i32(p.y_off / 4u) + (i32(n * p.out_h) + oy) * i32(p.out_w * out_c4);
    for (var co4 = 0u; co4 < out_c4; co4++) {
      var ds: array<vec4f, STRIP>; // as in bwd_input_slide
      for (var i = 1u; i < STRIP; i++) { ds[i] = slide_dy(line + i32(co4), left + i32(i) - 1, row_ok); }
      for (var b = 0u; b < p.k_w; b++) {
        for (var i = 0u; i + 1u < STRIP; i++) { ds[i] = ds[i + 1u]; }
        ds[STRIP - 1u] = slide_dy(line + i32(co4), left + i32(STRIP - 1u + b), row_ok);
        // w[ky, kx, 0, co4] for ky = 0, 1, 2 (zero past k_h)
        let at = (p.k_w - 1u - b) * out_c4 + co4;
        let last = arrayLength(&bin4_w) - 1u;
        let w0 = bin4_w[at];
        let w1 = select(vec4f(0.0), bin4_w[min(at + tap_row, last)], p.k_h > 1u);
        let w2 = select(vec4f(0.0), bin4_w[min(at + 2u * tap_row, last)], p.k_h > 2u);
        for (var i = 0u; i < STRIP; i++) {
          ring0[i] += dot(ds[i], w0);
          ring1[i] += dot(ds[i], w1);
          ring2[i] += dot(ds[i], w2);
        }
      }
    }
    let iy = oy - i32(p.pad_top);
    if (iy >= i32(iy0) && iy < i32(iy_end)) {
      let base = p.x_off + (n * p.in_h + u32(iy)) * p.in_w + first;
      for (var i = 0u; i < STRIP; i++) { bin_dx[base + i] = ring0[i]; }
    }
    ring0 = ring1;
    ring1 = ring2;
    ring2 = array<f32, STRIP>();
  }
}

// ---- input gradient as a forward convolution (3x3, stride 1, the op's choice) ----
// dx is the forward convolution of dy with the filter turned half a turn and its channel axes
// swapped, wt[ky, kx, co, ci] = w[k_h - 1 - ky, k_w - 1 - kx, ci, co], under padding k - 1 - pad:
// then the forward pass's subgroup teams compute it. This kernel writes wt (the Params are w's).
@group(0) @binding(0) var<storage, read> flip_w: array<f32>;
@group(0) @binding(1) var<storage, read_write> flip_wt: array<f32>;

// gid.x/y (folded): one element of wt
@compute @workgroup_size(WG)
fn conv2d_flip_filter(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flat(gid, nwg);
  if (e >= p.k_h * p.k_w * p.in_c * p.out_c) { return; }
  let ci = e % p.in_c;
  let co = (e / p.in_c) % p.out_c;
  let tap = e / (p.in_c * p.out_c); // ky * k_w + kx of wt
  let src_tap = p.k_h * p.k_w - 1u - tap; // (k_h - 1 - ky) * k_w + (k_w - 1 - kx)
  flip_wt[e] = flip_w[(src_tap * p.in_c + ci) * p.out_c + co];
}

// ---- filter gradient: x, dy -> partial [slices, k_h * k_w * in_c * out_c] ----
// Filter rows r = (ky, kx, ci) flattened. Each invocation sums a tile of 4 rows by 4 (or 8)
// channels over one slice of slice_rows output rows (n, oy), every ox of each.
// gid.x/y (folded): tile index = (row tile, channel tile) + tiles * slice.

/** Four filter rows from `row`: their taps as offsets from a window's corner, and channels. */
struct Rows { dy: vec4i, dx: vec4i, ci: vec4i }

fn filter_rows(row: u32) -> Rows {
  let r = four(row, p.k_h * p.k_w * p.in_c);
  let ky = r / (p.in_c * p.k_w);
  let kx = (r / p.in_c) % p.k_w;
  return Rows(vec4i(ky) - i32(p.pad_top), vec4i(kx) - i32(p.pad_left), vec4i(r % p.in_c));
}

/** The output rows (n, oy) of a slice: [first, end). */
fn slice_range(slice: u32) -> vec2u {
  let first = slice * p.slice_rows;
  return vec2u(first, min(first + p.slice_rows, p.batch * p.out_h));
}

@group(0) @binding(0) var<storage, read> bfi_x: array<f32>;
@group(0) @binding(1) var<storage, read> bfi_dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> bfi_partial: array<f32>;

/** x under the four rows' taps at output (n, oy, ox); `line` = x index of (n, iy, 0, ci). */
fn bfi_x4(line: vec4i, ix: vec4i, row_ok: vec4<bool>) -> vec4f {
  let ok = row_ok & (ix >= vec4i(0)) & (ix < vec4i(i32(p.in_w)));
  let i = select(vec4i(0), line + ix * i32(p.in_c), ok);
  return select(vec4f(0.0), vec4f(bfi_x[i.x], bfi_x[i.y], bfi_x[i.z], bfi_x[i.w]), ok);
}

@compute @workgroup_size(WG)
fn conv2d_bwd_filter(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let rows = p.k_h * p.k_w * p.in_c;
  let co_tiles = (p.out_c + 3u) / 4u;
  let tiles = ((rows + 3u) / 4u) * co_tiles;
  let t = flat(gid, nwg);
  let slice = t / tiles;
  let range = slice_range(slice);
  if (range.x >= range.y) { return; }
  let row = ((t % tiles) / co_tiles) * 4u;
  let co = (t % co_tiles) * 4u;
  let cols = four(co, p.out_c);
  let r = filter_rows(row);

  var acc: array<vec4f, 4>; // [filter row] = channels co..co+3
  for (var out_row = range.x; out_row < range.y; out_row++) {
    let n = out_row / p.out_h;
    let iy = vec4i(i32((out_row % p.out_h) * p.stride_h)) + r.dy;
    let row_ok = (iy >= vec4i(0)) & (iy < vec4i(i32(p.in_h)));
    let line = vec4i(i32(n * p.in_h * p.in_w * p.in_c + p.x_off)) + iy * i32(p.in_w * p.in_c) + r.ci;
    var di = p.y_off + out_row * p.out_w * p.out_c;
    var ix = r.dx;
    for (var ox = 0u; ox < p.out_w; ox++) {
      let xv = bfi_x4(line, ix, row_ok);
      let dv = vec4f(bfi_dy[di + cols.x], bfi_dy[di + cols.y], bfi_dy[di + cols.z], bfi_dy[di + cols.w]);
      for (var j = 0u; j < 4u; j++) { acc[j] += xv[j] * dv; }
      ix += vec4i(i32(p.stride_w));
      di += p.out_c;
    }
  }
  for (var j = 0u; j < 4u; j++) {
    if (row + j >= rows) { break; }
    let base = ((p.out_row + slice) * rows + row + j) * p.out_c + co;
    for (var c = 0u; c < 4u; c++) {
      if (co + c < p.out_c) { bfi_partial[base + c] = acc[j][c]; }
    }
  }
}

/** A filter-gradient tile of 8 channels: its slice of output rows, first filter row, channel groups. */
struct FilterTile { range: vec2u, slice: u32, row: u32, c0: u32, c1: u32 }

/** Tile t of `tile_rows` filter rows by two groups of 4 channels (past out_c: the last again). */
fn filter_tile(t: u32, tile_rows: u32) -> FilterTile {
  let rows = p.k_h * p.k_w * p.in_c;
  let out_c4 = p.out_c / 4u;
  let co_tiles = (out_c4 + 1u) / 2u;
  let tiles = ((rows + tile_rows - 1u) / tile_rows) * co_tiles;
  let slice = t / tiles;
  let c0 = (t % co_tiles) * 2u;
  return FilterTile(slice_range(slice), slice, ((t % tiles) / co_tiles) * tile_rows, c0, min(c0 + 1u, out_c4 - 1u));
}

@group(0) @binding(1) var<storage, read> bfi4_dy: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> bfi4_partial: array<vec4f>;


/** x at column ix of the row starting at `line` (channel included); 0 in the padding. */
fn bfr_x(line: i32, ix: i32, row_ok: bool) -> f32 {
  let inside = row_ok && ix >= 0 && ix < i32(p.in_w);
  return select(0.0, bfi_x[select(0, line + ix * i32(p.in_c), inside)], inside);
}

// 3x3 at stride 1 without subgroups (SwiftShader, GPUs), for input channels not in fours (an
// image's 1 or 3): an invocation sums all 9 taps of one input channel by 8 output channels,
// every accumulator a named register (the tiles above keep theirs in arrays, which SwiftShader
// holds in memory), walking each output row with the 3x3 window of inputs sliding along it: per
// pixel 3 new inputs and 2 dy vec4s feed 72 multiply-adds. A second channel group past out_c
// repeats the first (identical stores).
// gid.x/y (folded): tile = (input channel, 8 channels) + tiles * slice
@compute @workgroup_size(WG)
fn conv2d_bwd_filter_row9(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let out_c4 = p.out_c / 4u;
  let co_tiles = (out_c4 + 1u) / 2u;
  let tiles = p.in_c * co_tiles;
  let t = flat(gid, nwg);
  let slice = t / tiles;
  let range = slice_range(slice);
  if (range.x >= range.y) { return; }
  let ci = (t % tiles) / co_tiles;
  let c0 = (t % co_tiles) * 2u;
  let c1 = min(c0 + 1u, out_c4 - 1u);
  var a00 = vec4f(0.0); var b00 = vec4f(0.0);
  var a01 = vec4f(0.0); var b01 = vec4f(0.0);
  var a02 = vec4f(0.0); var b02 = vec4f(0.0);
  var a10 = vec4f(0.0); var b10 = vec4f(0.0);
  var a11 = vec4f(0.0); var b11 = vec4f(0.0);
  var a12 = vec4f(0.0); var b12 = vec4f(0.0);
  var a20 = vec4f(0.0); var b20 = vec4f(0.0);
  var a21 = vec4f(0.0); var b21 = vec4f(0.0);
  var a22 = vec4f(0.0); var b22 = vec4f(0.0);
  for (var out_row = range.x; out_row < range.y; out_row++) {
    let n = out_row / p.out_h;
    let top = i32(out_row % p.out_h) - i32(p.pad_top);
    let image = i32(n * p.in_h * p.in_w * p.in_c + p.x_off) + i32(ci);
    let row_len = i32(p.in_w * p.in_c);
    let ok0 = top >= 0 && top < i32(p.in_h);
    let ok1 = top + 1 >= 0 && top + 1 < i32(p.in_h);
    let ok2 = top + 2 >= 0 && top + 2 < i32(p.in_h);
    let line0 = image + top * row_len;
    let line1 = line0 + row_len;
    let line2 = line1 + row_len;
    let left = -i32(p.pad_left); // input column under tap kx = 0 of pixel 0
    // the window of pixel ox: x?0, x?1, x?2 = input columns left + ox + 0, 1, 2 of rows top + ?
    var x00 = bfr_x(line0, left, ok0); var x01 = bfr_x(line0, left + 1, ok0); var x02 = 0.0;
    var x10 = bfr_x(line1, left, ok1); var x11 = bfr_x(line1, left + 1, ok1); var x12 = 0.0;
    var x20 = bfr_x(line2, left, ok2); var x21 = bfr_x(line2, left + 1, ok2); var x22 = 0.0;
    var di = (p.y_off + out_row * p.out_w * p.out_c) / 4u;
    for (var ox = 0u; ox < p.out_w; ox++) {
      x02 = bfr_x(line0, left + i32(ox) + 2, ok0);
      x12 = bfr_x(line1, left + i32(ox) + 2, ok1);
      x22 = bfr_x(line2, left + i32(ox) + 2, ok2);
      let d = bfi4_dy[di + c0];
      let e = bfi4_dy[di + c1];
      di += out_c4;
      a00 += x00 * d; b00 += x00 * e;
      a01 += x01 * d; b01 += x01 * e;
      a02 += x02 * d; b02 += x02 * e;
      a10 += x10 * d; b10 += x10 * e;
      a11 += x11 * d; b11 += x11 * e;
      a12 += x12 * d; b12 += x12 * e;
      a20 += x20 * d; b20 += x20 * e;
      a21 += x21 * d; b21 += x21 * e;
      a22 += x22 * d; b22 += x22 * e;
      x00 = x01; x01 = x02;
      x10 = x11; x11 = x12;
      x20 = x21; x21 = x22;
    }
  }
  let tap = p.in_c * out_c4; // filter rows (ky, kx, ci) of one tap lie in_c apart
  let base = ((p.out_row + slice) * 9u * p.in_c + ci) * out_c4;
  bfi4_partial[base + 0u * tap + c0] = a00; bfi4_partial[base + 0u * tap + c1] = b00;
  bfi4_partial[base + 1u * tap + c0] = a01; bfi4_partial[base + 1u * tap + c1] = b01;
  bfi4_partial[base + 2u * tap + c0] = a02; bfi4_partial[base + 2u * tap + c1] = b02;
  bfi4_partial[base + 3u * tap + c0] = a10; bfi4_partial[base + 3u * tap + c1] = b10;
  bfi4_partial[base + 4u * tap + c0] = a11; bfi4_partial[base + 4u * tap + c1] = b11;
  bfi4_partial[base + 5u * tap + c0] = a12; bfi4_partial[base + 5u * tap + c1] = b12;
  bfi4_partial[base + 6u * tap + c0] = a20; bfi4_partial[base + 6u * tap + c1] = b20;
  bfi4_partial[base + 7u * tap + c0] = a21; bfi4_partial[base + 7u * tap + c1] = b21;
  bfi4_partial[base + 8u * tap + c0] = a22; bfi4_partial[base + 8u * tap + c1] = b22;
}

// out_c % 4 == 0: tiles of 4 filter rows by 8 channels, dy read 4 channels at a time
@compute @workgroup_size(WG)
fn conv2d_bwd_filter_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let rows = p.k_h * p.k_w * p.in_c;
  let out_c4 = p.out_c / 4u;
  let tile = filter_tile(flat(gid, nwg), 4u);
  let range = tile.range;
  if (range.x >= range.y) { return; }
  let slice = tile.slice;
  let row = tile.row;
  let c0 = tile.c0; // the tile's two groups of 4 channels
  let c1 = tile.c1;
  let r = filter_rows(row);

  var acc0: array<vec4f, 4>; // [filter row] = channels 4*c0 ..
  var acc1: array<vec4f, 4>; // [filter row] = channels 4*c1 ..
  for (var out_row = range.x; out_row < range.y; out_row++) {
    let n = out_row / p.out_h;
    let iy = vec4i(i32((out_row % p.out_h) * p.stride_h)) + r.dy;
    let row_ok = (iy >= vec4i(0)) & (iy < vec4i(i32(p.in_h)));
    let line = vec4i(i32(n * p.in_h * p.in_w * p.in_c + p.x_off)) + iy * i32(p.in_w * p.in_c) + r.ci;
    var di = (p.y_off + out_row * p.out_w * p.out_c) / 4u;
    var ix = r.dx;
    for (var ox = 0u; ox < p.out_w; ox++) {
      let xv = bfi_x4(line, ix, row_ok);
      let d0 = bfi4_dy[di + c0];
      let d1 = bfi4_dy[di + c1];
      for (var j = 0u; j < 4u; j++) {
        acc0[j] += xv[j] * d0;
        acc1[j] += xv[j] * d1;
      }
      ix += vec4i(i32(p.stride_w));
      di += out_c4;
    }
  }
  for (var j = 0u; j < 4u; j++) {
    if (row + j >= rows) { break; }
    let base = ((p.out_row + slice) * rows + row + j) * out_c4;
    bfi4_partial[base + c0] = acc0[j];
    if (c0 + 1u < out_c4) { bfi4_partial[base + c1] = acc1[j]; }
  }
}
