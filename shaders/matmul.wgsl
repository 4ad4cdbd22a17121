// Matrix products C = A·B (nn), A·Bᵀ (nt) and Aᵀ·B (tn) for dense layers and their gradients.
//
// Register-blocked: each invocation computes a 4x4 block of C with vec4 loads and no workgroup
// memory. On lavapipe every storage load is a bounds-checked loop over the SIMD lanes, so loads,
// not arithmetic, set the speed: a vec4 load costs far less per float than four scalar ones,
// and shared-memory tiles (barriers) were about 10x slower. Larger blocks (8x8 up to 32x16)
// measured no faster there: the accumulators no longer fit in registers.
// gid.x walks blocks of 4 columns of C, gid.y blocks of 4 rows; the op keeps both grid
// dimensions within the dispatch limit by splitting C into blocks.
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

// The bias and relu part of the epilogue (the old C is added by the caller when accumulating,
// so that C is only read then).
fn finish4(v: vec4f, bias: vec4f) -> vec4f {
  return select(v + bias, max(v + bias, vec4f(0.0)), has(RELU));
}

fn finish1(v: f32, bias: f32) -> f32 {
  return select(v + bias, max(v + bias, 0.0), has(RELU));
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

@compute @workgroup_size(WGX, WGY)
fn matmul_nn(@builtin(global_invocation_id) gid: vec3u) {
  let col = gid.x * 4u;
  let row = gid.y * 4u;
  if (col >= mm.n || row >= mm.m) { return; }
  let r = rows4(row);
  let lda = mm.a_sm / 4u;
  let ldb = mm.b_sk / 4u;
  let a = vec4u(mm.a_off / 4u) + r * lda;
  // split-K: workgroup z sums depths [k0, k_end) into C + z * c_slice (k_slice = k without it)
  let k0 = gid.z * mm.k_slice;
  let k_end = min(mm.k, k0 + mm.k_slice);
  var b = (mm.b_off + col) / 4u + k0 * ldb;
  var c0 = vec4f(0.0);
  var c1 = vec4f(0.0);
  var c2 = vec4f(0.0);
  var c3 = vec4f(0.0);
  for (var k = k0 / 4u; k < k_end / 4u; k++) {
    let x0 = nn_a[a.x + k];
    let x1 = nn_a[a.y + k];
    let x2 = nn_a[a.z + k];
    let x3 = nn_a[a.w + k];
    let y0 = nn_b[b];
    let y1 = nn_b[b + ldb];
    let y2 = nn_b[b + 2u * ldb];
    let y3 = nn_b[b + 3u * ldb];
    b += 4u * ldb;
    c0 += x0.x * y0 + x0.y * y1 + x0.z * y2 + x0.w * y3;
    c1 += x1.x * y0 + x1.y * y1 + x1.z * y2 + x1.w * y3;
    c2 += x2.x * y0 + x2.y * y1 + x2.z * y2 + x2.w * y3;
    c3 += x3.x * y0 + x3.y * y1 + x3.z * y2 + x3.w * y3;
  }
  var bias = vec4f(0.0);
  if (has(BIAS)) {
    let i = mm.bias_off + col;
    bias = vec4f(nn_bias[i], nn_bias[i + 1u], nn_bias[i + 2u], nn_bias[i + 3u]);
  }
  let ldc = mm.ldc / 4u;
  let c = (mm.c_off + gid.z * mm.c_slice + col) / 4u + row * ldc;
  if (has(ACCUMULATE)) {
    c0 += nn_c[c];
    if (row + 1u < mm.m) { c1 += nn_c[c + ldc]; }
    if (row + 2u < mm.m) { c2 += nn_c[c + 2u * ldc]; }
    if (row + 3u < mm.m) { c3 += nn_c[c + 3u * ldc]; }
  }
  nn_c[c] = finish4(c0, bias);
  if (row + 1u < mm.m) { nn_c[c + ldc] = finish4(c1, bias); }
  if (row + 2u < mm.m) { nn_c[c + 2u * ldc] = finish4(c2, bias); }
  if (row + 3u < mm.m) { nn_c[c + 3u * ldc] = finish4(c3, bias); }
}

// matmul_nt: A [m, k] · B[n, k]ᵀ, vec4 along k for both; C is written element by element, so n
// may be anything (columns past n repeat column n - 1 and are not stored).
@group(0) @binding(0) var<storage, read> nt_a: array<vec4f>;
@group(0) @binding(1) var<storage, read> nt_b: array<vec4f>;
@group(0) @binding(2) var<storage, read> nt_bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> nt_c: array<f32>;

@compute @workgroup_size(WGX, WGY)
fn matmul_nt(@builtin(global_invocation_id) gid: vec3u) {
  let col = gid.x * 4u;
  let row = gid.y * 4u;
  if (col >= mm.n || row >= mm.m) { return; }
  let lastCol = mm.n - 1u;
  let cols = vec4u(col, min(col + 1u, lastCol), min(col + 2u, lastCol), min(col + 3u, lastCol));
  let a = vec4u(mm.a_off / 4u) + rows4(row) * (mm.a_sm / 4u);
  let b = vec4u(mm.b_off / 4u) + cols * (mm.b_sn / 4u);
  var c0 = vec4f(0.0);
  var c1 = vec4f(0.0);
  var c2 = vec4f(0.0);
  var c3 = vec4f(0.0);
  for (var k = 0u; k < mm.k / 4u; k++) {
    let x0 = nt_a[a.x + k];
    let x1 = nt_a[a.y + k];
    let x2 = nt_a[a.z + k];
    let x3 = nt_a[a.w + k];
    let y0 = nt_b[b.x + k];
    let y1 = nt_b[b.y + k];
    let y2 = nt_b[b.z + k];
    let y3 = nt_b[b.w + k];
    c0 += vec4f(dot(x0, y0), dot(x0, y1), dot(x0, y2), dot(x0, y3));
    c1 += vec4f(dot(x1, y0), dot(x1, y1), dot(x1, y2), dot(x1, y3));
    c2 += vec4f(dot(x2, y0), dot(x2, y1), dot(x2, y2), dot(x2, y3));
    c3 += vec4f(dot(x3, y0), dot(x3, y1), dot(x3, y2), dot(x3, y3));
  }
  let acc = array<vec4f, 4>(c0, c1, c2, c3);
  for (var j = 0u; j < 4u; j++) {
    if (col + j >= mm.n) { break; }
    var bias = 0.0;
    if (has(BIAS)) { bias = nt_bias[mm.bias_off + col + j]; }
    for (var i = 0u; i < 4u; i++) {
      if (row + i >= mm.m) { break; }
      let c = mm.c_off + (row + i) * mm.ldc + col + j;
      var v = acc[i][j];
      if (has(ACCUMULATE)) { v += nt_c[c]; }
      nt_c[c] = finish1(v, bias);
    }
  }
}

// matmul_tn: A[k, m]ᵀ · B [k, n], vec4 along m for A and along n for B and C (m and n are
// multiples of 4 here, so a block never straddles the edge).
@group(0) @binding(0) var<storage, read> tn_a: array<vec4f>;
@group(0) @binding(1) var<storage, read> tn_b: array<vec4f>;
@group(0) @binding(2) var<storage, read> tn_bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> tn_c: array<vec4f>;

@compute @workgroup_size(WGX, WGY)
fn matmul_tn(@builtin(global_invocation_id) gid: vec3u) {
  let col = gid.x * 4u;
  let row = gid.y * 4u;
  if (col >= mm.n || row >= mm.m) { return; }
  let lda = mm.a_sk / 4u;
  let ldb = mm.b_sk / 4u;
  var a = (mm.a_off + row) / 4u;
  var b = (mm.b_off + col) / 4u;
  var c0 = vec4f(0.0);
  var c1 = vec4f(0.0);
  var c2 = vec4f(0.0);
  var c3 = vec4f(0.0);
  for (var k = 0u; k < mm.k; k++) {
    let x = tn_a[a];
    let y = tn_b[b];
    a += lda;
    b += ldb;
    c0 += x.x * y;
    c1 += x.y * y;
    c2 += x.z * y;
    c3 += x.w * y;
  }
  var bias = vec4f(0.0);
  if (has(BIAS)) {
    let i = mm.bias_off + col;
    bias = vec4f(tn_bias[i], tn_bias[i + 1u], tn_bias[i + 2u], tn_bias[i + 3u]);
  }
  let ldc = mm.ldc / 4u;
  let c = (mm.c_off + col) / 4u + row * ldc;
  if (has(ACCUMULATE)) {
    c0 += tn_c[c];
    if (row + 1u < mm.m) { c1 += tn_c[c + ldc]; }
    if (row + 2u < mm.m) { c2 += tn_c[c + 2u * ldc]; }
    if (row + 3u < mm.m) { c3 += tn_c[c + 3u * ldc]; }
  }
  tn_c[c] = finish4(c0, bias);
  tn_c[c + ldc] = finish4(c1, bias);
  tn_c[c + 2u * ldc] = finish4(c2, bias);
  tn_c[c + 3u * ldc] = finish4(c3, bias);
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
