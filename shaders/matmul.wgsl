// Matrix products C = A·B (nn), A·Bᵀ (nt) and Aᵀ·B (tn) for dense layers and their gradients.
//
// Register-blocked: each invocation computes an 8x8 block of C (matmul_strided: 4x4) with vec4
// loads and no workgroup memory, so a step along k makes 4 loads per 64 multiply-adds (a 4x4
// block: 2 per 16). These kernels run where the subgroup ones (matmul-subgroup.ts) do not:
// SwiftShader, GPUs. On SwiftShader 512^3 took 226 ms with 4x4 blocks, 189 with 4x8, 128 with
// 8x8; shared-memory tiles (barriers) were about 10x slower on software Vulkan.
// gid.x walks blocks of 8 columns of C, gid.y blocks of 8 rows; the op keeps both grid
// dimensions within the dispatch limit by splitting C into blocks. Rows past m repeat row m - 1
// and a second column group past n repeats the first: their loads stay in range, and their
// values are either not stored or stored again where the first ones went (the same values).
//
// The vec4 kernels need every vec4-loaded dimension, stride and offset to be a multiple of 4;
// the op checks that per dispatch and otherwise uses matmul_strided (scalar loads, any layout).
//
// Every operand may be a sub-matrix of a larger tensor bound in chunks: element (r, c) of A
// lives at a_off + r * a_sm + c * a_sk of its binding (likewise B with b_sk, b_sn; C with ldc).
// The epilogue adds the old C (ACCUMULATE: the op splits K into chunks when an operand exceeds
// one binding), the bias (BIAS, bias[bias_off + column]) and applies relu (RELU), in that order.

override WGX: u32 = 8;
override WGY: u32 = 2;

// ---- shared: shaders/matmul-subgroup.ts copies this block into its kernels ----
const ACCUMULATE = 1u;
const BIAS = 2u;
const RELU = 4u;

struct Mm {
  m: u32, n: u32, k: u32,
  a_off: u32, b_off: u32, c_off: u32, bias_off: u32, flags: u32,
  // element strides: A rows (m) and depth (k); B depth (k) and columns (n); C rows
  a_sm: u32, a_sk: u32, b_sk: u32, b_sn: u32, ldc: u32,
  // split-K (subgroup kernels and matmul_nn): workgroup z computes depths [z * k_slice, (z + 1) * k_slice)
  // into C + z * c_slice
  k_slice: u32, c_slice: u32,
}

@group(1) @binding(0) var<uniform> mm: Mm;

fn has(flag: u32) -> bool { return (mm.flags & flag) != 0u; }

// relu that keeps NaN (see shaders/elementwise.wgsl)
fn relu4(v: vec4f) -> vec4f { return select(v, vec4f(0.0), v < vec4f(0.0)); }

// The bias and relu part of the epilogue (the old C is added by the caller when accumulating,
// so that C is only read then).
fn finish4(v: vec4f, bias: vec4f) -> vec4f {
  return select(v + bias, relu4(v + bias), has(RELU));
}

fn finish1(v: f32, bias: f32) -> f32 {
  return select(v + bias, select(v + bias, 0.0, v + bias < 0.0), has(RELU));
}
// ---- end shared ----

// Rows past m repeat row m - 1 (nt and strided do the same for columns): their loads stay in
// range and their results are never stored.
fn rows4(row: u32) -> vec4u {
  let last = mm.m - 1u;
  return vec4u(row, min(row + 1u, last), min(row + 2u, last), min(row + 3u, last));
}

// matmul_nn: A [m, k] · B [k, n], vec4 along k for A and along n for B and C.
@group(0) @binding(0) var<storage, read> nn_a: array<vec4f>;
@group(0) @binding(1) var<storage, read> nn_b: array<vec4f>;
@group(0) @binding(2) var<storage, read> nn_bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> nn_c: array<vec4f>;

/** Bias of columns col .. col + 3 (zeros without BIAS). */
fn nn_bias4(col: u32) -> vec4f {
  if (!has(BIAS)) { return vec4f(0.0); }
  let i = mm.bias_off + col;
  return vec4f(nn_bias[i], nn_bias[i + 1u], nn_bias[i + 2u], nn_bias[i + 3u]);
}

/** Row `row` of an 8x8 block: its two column groups at c and c + g, with the epilogue. */
fn nn_store(row: u32, c: u32, g: u32, v: vec4f, w: vec4f, bv: vec4f, bw: vec4f) {
  if (row >= mm.m) { return; }
  var x = v;
  var y = w;
  // both old values before either store: with g = 0 they are the same element
  if (has(ACCUMULATE)) { x += nn_c[c]; y += nn_c[c + g]; }
  nn_c[c] = finish4(x, bv);
  nn_c[c + g] = finish4(y, bw);
}

@compute @workgroup_size(WGX, WGY)
fn matmul_nn(@builtin(global_invocation_id) gid: vec3u) {
  let col = gid.x * 8u;
  let row = gid.y * 8u;
  if (col >= mm.n || row >= mm.m) { return; }
  let lda = mm.a_sm / 4u;
  let ldb = mm.b_sk / 4u;
  let a_lo = vec4u(mm.a_off / 4u) + rows4(row) * lda;
  let a_hi = vec4u(mm.a_off / 4u) + rows4(min(row + 4u, mm.m - 1u)) * lda;
  let g = select(0u, 1u, col + 4u < mm.n); // the second column group (vec4s), or the first again
  // split-K: workgroup z sums depths [k0, k_end) into C + z * c_slice (k_slice = k without it)
  let k0 = gid.z * mm.k_slice;
  let k_end = min(mm.k, k0 + mm.k_slice);
  var b = (mm.b_off + col) / 4u + k0 * ldb;
  // row i of the block: c_i (columns 0-3), d_i (columns 4-7)
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  var c4 = vec4f(0.0); var c5 = vec4f(0.0); var c6 = vec4f(0.0); var c7 = vec4f(0.0);
  var d0 = vec4f(0.0); var d1 = vec4f(0.0); var d2 = vec4f(0.0); var d3 = vec4f(0.0);
  var d4 = vec4f(0.0); var d5 = vec4f(0.0); var d6 = vec4f(0.0); var d7 = vec4f(0.0);
  for (var k = k0 / 4u; k < k_end / 4u; k++) {
    // B's 4 rows at depths k .. k + 3 as matrix columns: y * x = sum over q of x[q] * B[k + q, ..]
    let y = mat4x4f(nn_b[b], nn_b[b + ldb], nn_b[b + 2u * ldb], nn_b[b + 3u * ldb]);
    let z = mat4x4f(nn_b[b + g], nn_b[b + ldb + g], nn_b[b + 2u * ldb + g], nn_b[b + 3u * ldb + g]);
    b += 4u * ldb;
    let x0 = nn_a[a_lo.x + k]; c0 += y * x0; d0 += z * x0;
    let x1 = nn_a[a_lo.y + k]; c1 += y * x1; d1 += z * x1;
    let x2 = nn_a[a_lo.z + k]; c2 += y * x2; d2 += z * x2;
    let x3 = nn_a[a_lo.w + k]; c3 += y * x3; d3 += z * x3;
    let x4 = nn_a[a_hi.x + k]; c4 += y * x4; d4 += z * x4;
    let x5 = nn_a[a_hi.y + k]; c5 += y * x5; d5 += z * x5;
    let x6 = nn_a[a_hi.z + k]; c6 += y * x6; d6 += z * x6;
    let x7 = nn_a[a_hi.w + k]; c7 += y * x7; d7 += z * x7;
  }
  let bv = nn_bias4(col);
  let bw = nn_bias4(col + 4u * g);
  let ldc = mm.ldc / 4u;
  let c = (mm.c_off + gid.z * mm.c_slice + col) / 4u + row * ldc;
  nn_store(row, c, g, c0, d0, bv, bw);
  nn_store(row + 1u, c + ldc, g, c1, d1, bv, bw);
  nn_store(row + 2u, c + 2u * ldc, g, c2, d2, bv, bw);
  nn_store(row + 3u, c + 3u * ldc, g, c3, d3, bv, bw);
  nn_store(row + 4u, c + 4u * ldc, g, c4, d4, bv, bw);
  nn_store(row + 5u, c + 5u * ldc, g, c5, d5, bv, bw);
  nn_store(row + 6u, c + 6u * ldc, g, c6, d6, bv, bw);
  nn_store(row + 7u, c + 7u * ldc, g, c7, d7, bv, bw);
}

// matmul_nt: A [m, k] · B[n, k]ᵀ, vec4 along k for both; C is written element by element, so n
// may be anything (columns past n repeat column n - 1 and are not stored).
@group(0) @binding(0) var<storage, read> nt_a: array<vec4f>;
@group(0) @binding(1) var<storage, read> nt_b: array<vec4f>;
@group(0) @binding(2) var<storage, read> nt_bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> nt_c: array<f32>;

/** Columns col .. col + 3 of an 8x8 block's row `row`: v, with the epilogue, where inside C. */
fn nt_store(row: u32, col: u32, v: vec4f) {
  if (row >= mm.m) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (col + j >= mm.n) { return; }
    let c = mm.c_off + row * mm.ldc + col + j;
    var x = v[j];
    if (has(ACCUMULATE)) { x += nt_c[c]; }
    var bias = 0.0;
    if (has(BIAS)) { bias = nt_bias[mm.bias_off + col + j]; }
    nt_c[c] = finish1(x, bias);
  }
}

@compute @workgroup_size(WGX, WGY)
fn matmul_nt(@builtin(global_invocation_id) gid: vec3u) {
  let col = gid.x * 8u;
  let row = gid.y * 8u;
  if (col >= mm.n || row >= mm.m) { return; }
  let lastCol = mm.n - 1u;
  let lda = mm.a_sm / 4u;
  let ldb = mm.b_sn / 4u;
  let a_lo = vec4u(mm.a_off / 4u) + rows4(row) * lda;
  let a_hi = vec4u(mm.a_off / 4u) + rows4(min(row + 4u, mm.m - 1u)) * lda;
  let b_lo = vec4u(mm.b_off / 4u) + min(vec4u(col) + vec4u(0u, 1u, 2u, 3u), vec4u(lastCol)) * ldb;
  let b_hi = vec4u(mm.b_off / 4u) + min(vec4u(col) + vec4u(4u, 5u, 6u, 7u), vec4u(lastCol)) * ldb;
  // row i of the block: c_i (columns 0-3), d_i (columns 4-7)
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  var c4 = vec4f(0.0); var c5 = vec4f(0.0); var c6 = vec4f(0.0); var c7 = vec4f(0.0);
  var d0 = vec4f(0.0); var d1 = vec4f(0.0); var d2 = vec4f(0.0); var d3 = vec4f(0.0);
  var d4 = vec4f(0.0); var d5 = vec4f(0.0); var d6 = vec4f(0.0); var d7 = vec4f(0.0);
  for (var k = 0u; k < mm.k / 4u; k++) {
    // B's rows (columns of C) as matrix rows: y * x = their dot products with x
    let y = transpose(mat4x4f(nt_b[b_lo.x + k], nt_b[b_lo.y + k], nt_b[b_lo.z + k], nt_b[b_lo.w + k]));
    let z = transpose(mat4x4f(nt_b[b_hi.x + k], nt_b[b_hi.y + k], nt_b[b_hi.z + k], nt_b[b_hi.w + k]));
    let x0 = nt_a[a_lo.x + k]; c0 += y * x0; d0 += z * x0;
    let x1 = nt_a[a_lo.y + k]; c1 += y * x1; d1 += z * x1;
    let x2 = nt_a[a_lo.z + k]; c2 += y * x2; d2 += z * x2;
    let x3 = nt_a[a_lo.w + k]; c3 += y * x3; d3 += z * x3;
    let x4 = nt_a[a_hi.x + k]; c4 += y * x4; d4 += z * x4;
    let x5 = nt_a[a_hi.y + k]; c5 += y * x5; d5 += z * x5;
    let x6 = nt_a[a_hi.z + k]; c6 += y * x6; d6 += z * x6;
    let x7 = nt_a[a_hi.w + k]; c7 += y * x7; d7 += z * x7;
  }
  nt_store(row, col, c0); nt_store(row, col + 4u, d0);
  nt_store(row + 1u, col, c1); nt_store(row + 1u, col + 4u, d1);
  nt_store(row + 2u, col, c2); nt_store(row + 2u, col + 4u, d2);
  nt_store(row + 3u, col, c3); nt_store(row + 3u, col + 4u, d3);
  nt_store(row + 4u, col, c4); nt_store(row + 4u, col + 4u, d4);
  nt_store(row + 5u, col, c5); nt_store(row + 5u, col + 4u, d5);
  nt_store(row + 6u, col, c6); nt_store(row + 6u, col + 4u, d6);
  nt_store(row + 7u, col, c7); nt_store(row + 7u, col + 4u, d7);
}

// matmul_tn: A[k, m]ᵀ · B [k, n], vec4 along m for A and along n for B and C (m and n are
// multiples of 4 here; a second row or column group past them repeats the first).
@group(0) @binding(0) var<storage, read> tn_a: array<vec4f>;
@group(0) @binding(1) var<storage, read> tn_b: array<vec4f>;
@group(0) @binding(2) var<storage, read> tn_bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> tn_c: array<vec4f>;

/** Bias of columns col .. col + 3 (zeros without BIAS). */
fn tn_bias4(col: u32) -> vec4f {
  if (!has(BIAS)) { return vec4f(0.0); }
  let i = mm.bias_off + col;
  return vec4f(tn_bias[i], tn_bias[i + 1u], tn_bias[i + 2u], tn_bias[i + 3u]);
}

/**
 * Four rows of an 8x8 block at c (C's vec4 index of their first row) and their second column
 * group at c + g, with the epilogue: every old value is read before any store (g = 0, or the
 * second row group repeating the first, makes two of them the same element).
 */
fn tn_store4(c: u32, g: u32, v: mat4x4f, w: mat4x4f, bv: vec4f, bw: vec4f) {
  let ldc = mm.ldc / 4u;
  var x = v;
  var y = w;
  if (has(ACCUMULATE)) {
    for (var i = 0u; i < 4u; i++) {
      x[i] += tn_c[c + i * ldc];
      y[i] += tn_c[c + i * ldc + g];
    }
  }
  for (var i = 0u; i < 4u; i++) {
    tn_c[c + i * ldc] = finish4(x[i], bv);
    tn_c[c + i * ldc + g] = finish4(y[i], bw);
  }
}

@compute @workgroup_size(WGX, WGY)
fn matmul_tn(@builtin(global_invocation_id) gid: vec3u) {
  let col = gid.x * 8u;
  let row = gid.y * 8u;
  if (col >= mm.n || row >= mm.m) { return; }
  let lda = mm.a_sk / 4u;
  let ldb = mm.b_sk / 4u;
  let h = select(0u, 1u, row + 4u < mm.m); // the second row group (vec4s of A), or the first again
  let g = select(0u, 1u, col + 4u < mm.n); // the second column group, or the first again
  var a = (mm.a_off + row) / 4u;
  var b = (mm.b_off + col) / 4u;
  // rows 0-3 by columns 0-3 (c), 4-7 (d); rows 4-7 likewise (e, f); each row a matrix column
  var c = mat4x4f();
  var d = mat4x4f();
  var e = mat4x4f();
  var f = mat4x4f();
  for (var k = 0u; k < mm.k; k++) {
    let x = tn_a[a];
    let x2 = tn_a[a + h];
    let y = tn_b[b];
    let z = tn_b[b + g];
    a += lda;
    b += ldb;
    // outer products: row i gains x[i] * y
    c += mat4x4f(x.x * y, x.y * y, x.z * y, x.w * y);
    d += mat4x4f(x.x * z, x.y * z, x.z * z, x.w * z);
    e += mat4x4f(x2.x * y, x2.y * y, x2.z * y, x2.w * y);
    f += mat4x4f(x2.x * z, x2.y * z, x2.z * z, x2.w * z);
  }
  let bv = tn_bias4(col);
  let bw = tn_bias4(col + 4u * g);
  let ldc = mm.ldc / 4u;
  let at = (mm.c_off + col) / 4u + row * ldc;
  tn_store4(at, g, c, d, bv, bw);
  // (a repeated first row group is not stored again: with ACCUMULATE it would add twice)
  if (h != 0u) { tn_store4(at + 4u * ldc, g, e, f, bv, bw); }
}

// matmul_strided: any layout, any sizes and offsets, scalar loads (shapes the vec4 kernels
// cannot take: sizes or strides that are not multiples of 4).
@group(0) @binding(0) var<storage, read> s_a: array<f32>;
@group(0) @binding(1) var<storage, read> s_b: array<f32>;
@group(0) @binding(2) var<storage, read> s_bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> s_c: array<f32>;

@compute @workgroup_size(WGX, WGY)
fn matmul_strided(@builtin(global_invocation_id) gid: vec3u) {
  let col = gid.x * 4u;
  let row = gid.y * 4u;
  if (col >= mm.n || row >= mm.m) { return; }
  let lastCol = mm.n - 1u;
  let cols = vec4u(col, min(col + 1u, lastCol), min(col + 2u, lastCol), min(col + 3u, lastCol));
  var a = vec4u(mm.a_off) + rows4(row) * mm.a_sm;
  var b = vec4u(mm.b_off) + cols * mm.b_sn;
  var c0 = vec4f(0.0);
  var c1 = vec4f(0.0);
  var c2 = vec4f(0.0);
  var c3 = vec4f(0.0);
  for (var k = 0u; k < mm.k; k++) {
    let y = vec4f(s_b[b.x], s_b[b.y], s_b[b.z], s_b[b.w]);
    c0 += s_a[a.x] * y;
    c1 += s_a[a.y] * y;
    c2 += s_a[a.z] * y;
    c3 += s_a[a.w] * y;
    a += vec4u(mm.a_sk);
    b += vec4u(mm.b_sk);
  }
  let acc = array<vec4f, 4>(c0, c1, c2, c3);
  for (var j = 0u; j < 4u; j++) {
    if (col + j >= mm.n) { break; }
    var bias = 0.0;
    if (has(BIAS)) { bias = s_bias[mm.bias_off + col + j]; }
    for (var i = 0u; i < 4u; i++) {
      if (row + i >= mm.m) { break; }
      let c = mm.c_off + (row + i) * mm.ldc + col + j;
      var v = acc[i][j];
      if (has(ACCUMULATE)) { v += s_c[c]; }
      s_c[c] = finish1(v, bias);
    }
  }
}

// matmul_reduce: split-K. When C has too few blocks to keep every core busy and k is long, the op
// computes k slices' partial products into P [k, m, n] (mm.k = the number of slices, bound at
// a_off) and this kernel adds them up: C = epilogue(sum over slices (+ old C when ACCUMULATE)).
@group(0) @binding(0) var<storage, read> r_p: array<f32>;
@group(0) @binding(1) var<storage, read> r_bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> r_c: array<f32>;

@compute @workgroup_size(WGX, WGY)
fn matmul_reduce(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * WGX * WGY + li; // element of C, row-major [m, n]
  if (i >= mm.m * mm.n) { return; }
  let row = i / mm.n;
  let col = i % mm.n;
  var v = 0.0;
  for (var s = 0u; s < mm.k; s++) { v += r_p[mm.a_off + s * mm.m * mm.n + i]; }
  let c = mm.c_off + row * mm.ldc + col;
  if (has(ACCUMULATE)) { v += r_c[c]; }
  var bias = 0.0;
  if (has(BIAS)) { bias = r_bias[mm.bias_off + col]; }
  r_c[c] = finish1(v, bias);
}
