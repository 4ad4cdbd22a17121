// Preprocessing and augmentation kernels (NHWC images): per-channel affine maps (Rescaling,
// Normalization), TensorFlow-style resizing, per-image affine resampling (flip, translation,
// rotation, zoom), per-image per-channel sums, contrast and brightness.
// 1-D dispatches fold into 2-D past 65,535 workgroups: i = gid.x + gid.y * nwg.x * WG.
// A tensor larger than one storage binding is bound in chunks of whole images: n0 is the first
// image of the chunk (per-image parameters are bound whole and indexed by n0 + local image).

override WG: u32 = 256;

fn flat(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// ---------------------------------------------------------------------------------------------
// rescale_channels: y = (x - coef[0, k]) * coef[1, k] + coef[2, k], k = ((offset + i) / inner) % channels.
// With grad = 1 it is the backward pass: dx = dy * coef[1, k].
struct ChannelAffine { n: u32, offset: u32, inner: u32, channels: u32, grad: u32 }

@group(0) @binding(0) var<storage, read> ca_x: array<f32>;
@group(0) @binding(1) var<storage, read> ca_coef: array<f32>;
@group(0) @binding(2) var<storage, read_write> ca_y: array<f32>;
@group(1) @binding(0) var<uniform> ca_p: ChannelAffine;

fn channel_affine(i: u32, k: u32) {
  let m = ca_coef[ca_p.channels + k];
  if (ca_p.grad == 1u) {
    ca_y[i] = ca_x[i] * m;
  } else {
    ca_y[i] = (ca_x[i] - ca_coef[k]) * m + ca_coef[2u * ca_p.channels + k];
  }
}

@compute @workgroup_size(WG)
fn rescale_channels(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= ca_p.n) { return; }
  channel_affine(i, ((ca_p.offset + i) / ca_p.inner) % ca_p.channels);
}

// rescale_last: the same along the last axis, one row of channels per invocation: no integer
// division per element (lavapipe emulates vector division; this runs 3x faster). Chunks start
// on row boundaries.
@compute @workgroup_size(WG)
fn rescale_last(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let base = flat(gid, nwg) * ca_p.channels;
  if (base >= ca_p.n) { return; }
  for (var k = 0u; k < ca_p.channels; k++) { channel_affine(base + k, k); }
}

// ---------------------------------------------------------------------------------------------
// resize_image: a run of up to 4 output pixels of one row per invocation (one row of taps, fewer
// index divisions: about 1.7x faster than one pixel on lavapipe), all channels. The taps
// (computed on the CPU exactly as TensorFlow rounds them) hold, per output row then per output
// column, the lower and upper source index and the interpolation weight; nearest uses
// lower = upper, weight 0. (top, left) is the crop window's corner (crop to aspect ratio).
const RUN: u32 = 4u;

struct Resize { rows: u32, in_h: u32, in_w: u32, out_h: u32, out_w: u32, channels: u32, top: u32, left: u32 }

@group(0) @binding(0) var<storage, read> rs_x: array<f32>;
@group(0) @binding(1) var<storage, read> rs_taps: array<f32>;
@group(0) @binding(2) var<storage, read_write> rs_y: array<f32>;
@group(1) @binding(0) var<uniform> rs_p: Resize;

@compute @workgroup_size(WG)
fn resize_image(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let q = flat(gid, nwg);
  let runs = (rs_p.out_w + RUN - 1u) / RUN;
  if (q >= rs_p.rows * runs) { return; }
  let c = rs_p.channels;
  let x0 = (q % runs) * RUN;
  let row = q / runs; // image * out_h + output row
  let ty = 3u * (row % rs_p.out_h);
  let row_stride = rs_p.in_w * c;
  let base = (row / rs_p.out_h) * rs_p.in_h * row_stride;
  let top = base + (u32(rs_taps[ty]) + rs_p.top) * row_stride;
  let bottom = base + (u32(rs_taps[ty + 1u]) + rs_p.top) * row_stride;
  let dy = rs_taps[ty + 2u];
  let end = min(x0 + RUN, rs_p.out_w);
  for (var ox = x0; ox < end; ox++) {
    let tx = 3u * (rs_p.out_h + ox);
    let left = (u32(rs_taps[tx]) + rs_p.left) * c;
    let right = (u32(rs_taps[tx + 1u]) + rs_p.left) * c;
    let dx = rs_taps[tx + 2u];
    let o = (row * rs_p.out_w + ox) * c;
    for (var k = 0u; k < c; k++) {
      let top_left = rs_x[top + left + k];
      let bottom_left = rs_x[bottom + left + k];
      let upper = top_left + (rs_x[top + right + k] - top_left) * dx;
      let lower = bottom_left + (rs_x[bottom + right + k] - bottom_left) * dx;
      rs_y[o + k] = upper + (lower - upper) * dy;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// augment_affine: TensorFlow's ImageProjectiveTransformV3. Each image n has a transform
// [a0, a1, a2, b0, b1, b2, c0, c1] mapping OUTPUT pixel (x, y) to the INPUT point
// ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k), k = c0 x + c1 y + 1; the point is mapped
// into the image by the fill mode, then sampled (bilinear or nearest); samples outside the
// image read fill_value.
const FILL_REFLECT: u32 = 0u;
const FILL_WRAP: u32 = 1u;
const FILL_CONSTANT: u32 = 2u;
const FILL_NEAREST: u32 = 3u;

struct Affine { pixels: u32, height: u32, width: u32, channels: u32, n0: u32, fill_mode: u32, nearest: u32, fill_value: f32 }

@group(0) @binding(0) var<storage, read> af_x: array<f32>;
@group(0) @binding(1) var<storage, read> af_t: array<f32>;
@group(0) @binding(2) var<storage, read_write> af_y: array<f32>;
@group(1) @binding(0) var<uniform> af_p: Affine;

fn map_coordinate(coord: f32, size: u32) -> f32 {
  let len = f32(size);
  var v = coord;
  switch af_p.fill_mode {
    case FILL_REFLECT: {
      // (d c b a | a b c d | d c b a)
      if (v < 0.0) {
        if (size <= 1u) { v = 0.0; } else {
          let sz2 = 2.0 * len;
          v = sz2 * trunc(-v / sz2) + v;
          v = select(-v - 1.0, v + sz2, v < -len);
        }
      } else if (v > len - 1.0) {
        if (size <= 1u) { v = 0.0; } else {
          let sz2 = 2.0 * len;
          v = v - sz2 * trunc(v / sz2);
          if (v >= len) { v = sz2 - v - 1.0; }
        }
      }
      return clamp(v, 0.0, len - 1.0);
    }
    case FILL_WRAP: {
      // (a b c d | a b c d | a b c d)
      if (v < 0.0) {
        if (size <= 1u) { v = 0.0; } else { v = v + len * (trunc(-v / (len - 1.0)) + 1.0); }
      } else if (v > len - 1.0) {
        if (size <= 1u) { v = 0.0; } else { v = v - len * trunc(v / (len - 1.0)); }
      }
      return clamp(v, 0.0, len - 1.0);
    }
    case FILL_NEAREST: {
      return clamp(v, 0.0, len - 1.0);
    }
    default: {
      return v;
    }
  }
}

// Element offset of pixel (y, x) of image-local base, or -1 outside the image (reads fill_value).
fn pixel_at(base: u32, y: f32, x: f32) -> i32 {
  if (y < 0.0 || x < 0.0 || y >= f32(af_p.height) || x >= f32(af_p.width)) { return -1; }
  return i32(base + (u32(y) * af_p.width + u32(x)) * af_p.channels);
}

fn read_or_fill(at: i32, k: u32) -> f32 {
  if (at < 0) { return af_p.fill_value; }
  return af_x[u32(at) + k];
}

// round half away from zero, as std::round
fn round_away(v: f32) -> f32 { return sign(v) * floor(abs(v) + 0.5); }

@compute @workgroup_size(WG)
fn augment_affine(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= af_p.pixels) { return; }
  let c = af_p.channels;
  let ox = i % af_p.width;
  let t = i / af_p.width;
  let oy = t % af_p.height;
  let n = t / af_p.height;
  let m = (af_p.n0 + n) * 8u;
  let fx = f32(ox);
  let fy = f32(oy);
  let o = i * c;
  let projection = af_t[m + 6u] * fx + af_t[m + 7u] * fy + 1.0;
  if (projection == 0.0) {
    for (var k = 0u; k < c; k++) { af_y[o + k] = af_p.fill_value; }
    return;
  }
  let x = map_coordinate((af_t[m] * fx + af_t[m + 1u] * fy + af_t[m + 2u]) / projection, af_p.width);
  let y = map_coordinate((af_t[m + 3u] * fx + af_t[m + 4u] * fy + af_t[m + 5u]) / projection, af_p.height);
  let base = n * af_p.height * af_p.width * c;
  if (af_p.nearest == 1u) {
    let at = pixel_at(base, round_away(y), round_away(x));
    for (var k = 0u; k < c; k++) { af_y[o + k] = read_or_fill(at, k); }
    return;
  }
  let x0 = floor(x);
  let y0 = floor(y);
  let x1 = x0 + 1.0;
  let y1 = y0 + 1.0;
  let top_left = pixel_at(base, y0, x0);
  let top_right = pixel_at(base, y0, x1);
  let bottom_left = pixel_at(base, y1, x0);
  let bottom_right = pixel_at(base, y1, x1);
  for (var k = 0u; k < c; k++) {
    let upper = (x1 - x) * read_or_fill(top_left, k) + (x - x0) * read_or_fill(top_right, k);
    let lower = (x1 - x) * read_or_fill(bottom_left, k) + (x - x0) * read_or_fill(bottom_right, k);
    af_y[o + k] = (y1 - y) * upper + (y - y0) * lower;
  }
}

// ---------------------------------------------------------------------------------------------
// channel_sums: x [images, rows, channels] -> out[n0 + image, block, channel], the sum over the
// rows of each block. Applied again to the partial sums until one block is left.
struct Sums { images: u32, rows: u32, channels: u32, block: u32, blocks: u32, n0: u32 }

@group(0) @binding(0) var<storage, read> cs_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> cs_out: array<f32>;
@group(1) @binding(0) var<uniform> cs_p: Sums;

@compute @workgroup_size(WG)
fn channel_sums(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  let c = cs_p.channels;
  if (i >= cs_p.images * cs_p.blocks * c) { return; }
  let ch = i % c;
  let t = i / c;
  let b = t % cs_p.blocks;
  let n = t / cs_p.blocks;
  let start = b * cs_p.block;
  let end = min(start + cs_p.block, cs_p.rows);
  let base = n * cs_p.rows * c + ch;
  var acc = 0.0;
  for (var r = start; r < end; r++) { acc += cs_x[base + r * c]; }
  cs_out[((cs_p.n0 + n) * cs_p.blocks + b) * c + ch] = acc;
}

// ---------------------------------------------------------------------------------------------
// augment_contrast: y = clamp((x - mean) * factor[n] + mean, lo, hi), mean = the image's channel
// sum / pixels (Keras' RandomContrast). One pixel (all channels) per invocation.
struct Contrast { pixels: u32, per_image: u32, channels: u32, n0: u32, count: f32, lo: f32, hi: f32 }

@group(0) @binding(0) var<storage, read> ct_x: array<f32>;
@group(0) @binding(1) var<storage, read> ct_factor: array<f32>;
@group(0) @binding(2) var<storage, read> ct_sums: array<f32>;
@group(0) @binding(3) var<storage, read_write> ct_y: array<f32>;
@group(1) @binding(0) var<uniform> ct_p: Contrast;

@compute @workgroup_size(WG)
fn augment_contrast(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = flat(gid, nwg);
  if (p >= ct_p.pixels) { return; }
  let c = ct_p.channels;
  let image = ct_p.n0 + p / ct_p.per_image;
  let factor = ct_factor[image];
  for (var k = 0u; k < c; k++) {
    let mean = ct_sums[image * c + k] / ct_p.count;
    ct_y[p * c + k] = clamp((ct_x[p * c + k] - mean) * factor + mean, ct_p.lo, ct_p.hi);
  }
}

// ---------------------------------------------------------------------------------------------
// augment_brightness: y = clamp(x + delta[n], lo, hi) (Keras' RandomBrightness). One pixel
// (all channels) per invocation.
struct Brightness { pixels: u32, per_image: u32, channels: u32, n0: u32, lo: f32, hi: f32 }

@group(0) @binding(0) var<storage, read> br_x: array<f32>;
@group(0) @binding(1) var<storage, read> br_delta: array<f32>;
@group(0) @binding(2) var<storage, read_write> br_y: array<f32>;
@group(1) @binding(0) var<uniform> br_p: Brightness;

@compute @workgroup_size(WG)
fn augment_brightness(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = flat(gid, nwg);
  if (p >= br_p.pixels) { return; }
  let c = br_p.channels;
  let delta = br_delta[br_p.n0 + p / br_p.per_image];
  for (var k = 0u; k < c; k++) { br_y[p * c + k] = clamp(br_x[p * c + k] + delta, br_p.lo, br_p.hi); }
}
