// conv2d's input unfolded ("im2col"): each output pixel's window as one row of a matrix, so the
// plain matrix-product kernels (8x8 blocks per invocation, shaders/matmul.wgsl) run the
// convolution as col · w (forward) and colᵀ · dy (filter gradient), and the input gradient as
// dcol = dy · wᵀ folded back (col2im, below). Used where subgroups are missing (SwiftShader,
// GPUs): on SwiftShader the implicit product with 4x4 tiles this replaced ran at 0.9 GFLOP/s,
// the matrix product runs at 2.1 (src/ops/conv2d-im2col.ts has the op-level figures).
//   col[r, (ky * k_w + kx) * in_c + c] = x[n, oy * stride_h + ky - pad_top, ox * stride_w + kx - pad_left, c]
// for row r = pixel first + r = (n, oy, ox) of the batch chunk; 0 in the padding. in_c % 4 == 0.

struct Im2col {
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
  x_off: u32, // elements before the chunk's first image in the x binding (a multiple of 4)
  first: u32, // the chunk's pixel that row 0 unfolds
  rows: u32,
  row_len: u32, // elements per row of dcol (the input gradient's): k_h * k_w * in_c up to a multiple of 4
}

@group(0) @binding(0) var<storage, read> i2c_x: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> i2c_col: array<vec4f>;
@group(1) @binding(0) var<uniform> q: Im2col;

override WG: u32 = 64;

// one invocation per (row, filter tap), folded 2-D: copies the tap's in_c / 4 vec4s
@compute @workgroup_size(WG)
fn conv2d_im2col(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let taps = q.k_h * q.k_w;
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= q.rows * taps) { return; }
  let r = i / taps;
  let tap = i - r * taps;
  let ky = tap / q.k_w;
  let kx = tap - ky * q.k_w;
  let pixel = q.first + r;
  let n = pixel / (q.out_h * q.out_w);
  let oy = pixel / q.out_w - n * q.out_h;
  let ox = pixel - (pixel / q.out_w) * q.out_w;
  let iy = i32(oy * q.stride_h + ky) - i32(q.pad_top);
  let ix = i32(ox * q.stride_w + kx) - i32(q.pad_left);
  let inside = iy >= 0 && iy < i32(q.in_h) && ix >= 0 && ix < i32(q.in_w);
  let in_c4 = q.in_c / 4u;
  let src = select(0u, (q.x_off + ((n * q.in_h + u32(iy)) * q.in_w + u32(ix)) * q.in_c) / 4u, inside);
  let dst = i * in_c4;
  for (var c = 0u; c < in_c4; c++) {
    i2c_col[dst + c] = select(vec4f(0.0), i2c_x[src + c], inside);
  }
}

// ---- the way back (col2im), for the input gradient: dcol = dy · wᵀ, then each dx pixel gathers
// its windows' rows: dx[n, iy, ix, c] = sum over taps (ky, kx) whose output pixel
// oy = (iy + pad_top - ky) / stride_h, ox = (ix + pad_left - kx) / stride_w is whole and inside
// of dcol[(n, oy, ox), (ky * k_w + kx) * in_c + c] (rows row_len apart). Here `rows` counts the
// dx pixels of the block's images, x_off is where they start in the dx binding, and dcol starts
// at the block's first image; `first` is unused. conv2d_col2im takes in_c % 4 == 0 (vec4s),
// conv2d_col2im1 any in_c (an image's 1-3 channels).
@group(0) @binding(0) var<storage, read> c2i_col: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> c2i_dx: array<vec4f>;

/** The output index along one axis that tap k of input position i meets, or -1. */
fn c2i_out(i: u32, pad: u32, k: u32, stride: u32, size: u32) -> i32 {
  let t = i32(i + pad) - i32(k);
  let o = t / i32(stride);
  return select(-1, o, t >= 0 && o * i32(stride) == t && o < i32(size));
}

/** Block-relative dx pixel index -> (image, row, column). */
fn c2i_pixel(pixel: u32) -> vec3u {
  let n = pixel / (q.in_h * q.in_w);
  return vec3u(n, pixel / q.in_w - n * q.in_h, pixel - (pixel / q.in_w) * q.in_w);
}

/** The dcol row of output pixel (oy, ox) in dx pixel px's image. */
fn c2i_row(px: vec3u, oy: i32, ox: i32) -> u32 { return (px.x * q.out_h + u32(oy)) * q.out_w + u32(ox); }

// one invocation per (dx pixel, group of 4 channels), folded 2-D
@compute @workgroup_size(WG)
fn conv2d_col2im(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let in_c4 = q.in_c / 4u;
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= q.rows * in_c4) { return; }
  let pixel = i / in_c4;
  let c4 = i - pixel * in_c4;
  let px = c2i_pixel(pixel);
  let row4 = q.row_len / 4u;
  var acc = vec4f(0.0);
  for (var ky = 0u; ky < q.k_h; ky++) {
    let oy = c2i_out(px.y, q.pad_top, ky, q.stride_h, q.out_h);
    if (oy < 0) { continue; }
    for (var kx = 0u; kx < q.k_w; kx++) {
      let ox = c2i_out(px.z, q.pad_left, kx, q.stride_w, q.out_w);
      if (ox < 0) { continue; }
      acc += c2i_col[c2i_row(px, oy, ox) * row4 + (ky * q.k_w + kx) * in_c4 + c4];
    }
  }
  c2i_dx[q.x_off / 4u + i] = acc;
}

@group(0) @binding(0) var<storage, read> c2s_col: array<f32>;
@group(0) @binding(1) var<storage, read_write> c2s_dx: array<f32>;

// one invocation per dx element, folded 2-D
@compute @workgroup_size(WG)
fn conv2d_col2im1(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= q.rows * q.in_c) { return; }
  let pixel = i / q.in_c;
  let c = i - pixel * q.in_c;
  let px = c2i_pixel(pixel);
  var acc = 0.0;
  for (var ky = 0u; ky < q.k_h; ky++) {
    let oy = c2i_out(px.y, q.pad_top, ky, q.stride_h, q.out_h);
    if (oy < 0) { continue; }
    for (var kx = 0u; kx < q.k_w; kx++) {
      let ox = c2i_out(px.z, q.pad_left, kx, q.stride_w, q.out_w);
      if (ox < 0) { continue; }
      acc += c2s_col[c2i_row(px, oy, ox) * q.row_len + (ky * q.k_w + kx) * q.in_c + c];
    }
  }
  c2s_dx[q.x_off + i] = acc;
}

// wᵀ [out_c, row_len] (rows padded to fours) for dcol = dy · wᵀ as a plain product with
// vec4 rows: on SwiftShader matmul_nn took [3872 x 64]·[64 x 288] in 80-85 ms, matmul_nt the
// same from w in 107-110.
@group(0) @binding(0) var<storage, read> ft_w: array<f32>;
@group(0) @binding(1) var<storage, read_write> ft_wt: array<f32>;

@compute @workgroup_size(WG)
fn conv2d_filter_transpose(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let rows = q.k_h * q.k_w * q.in_c;
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= q.row_len * q.out_c) { return; }
  let co = i / q.row_len;
  let r = i - co * q.row_len;
  // (columns past the window repeat its last: col2im never reads those of dcol)
  ft_wt[i] = ft_w[min(r, rows - 1u) * q.out_c + co];
}
