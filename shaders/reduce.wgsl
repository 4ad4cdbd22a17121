// Column sums: out[b, c] = scale * sum of x[r, c] over the rows r of block b.
// Applied repeatedly until one block remains; gives bias gradients (sum over rows of dy) and,
// with one column, the total sum (mean loss, accuracy). sum_rows (one lane per column) takes
// small inputs and last passes; sum_rows_vec4 takes the big passes.

override WG: u32 = 64;

// x may be one chunk of a larger tensor; its blocks land at out rows out_row, out_row + 1, ...
// Columns past 65,535 workgroups are covered by further dispatches starting at column col0.
struct Sum { rows: u32, cols: u32, block: u32, out_row: u32, col0: u32, scale: f32 }

@group(0) @binding(0) var<storage, read> sum_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> sum_out: array<f32>;
@group(1) @binding(0) var<uniform> sum_p: Sum;

// gid.x: column, gid.y: block of rows
@compute @workgroup_size(WG)
fn sum_rows(@builtin(global_invocation_id) gid: vec3u) {
  let c = sum_p.col0 + gid.x;
  let b = gid.y;
  if (c >= sum_p.cols) { return; }
  let start = b * sum_p.block;
  let end = min(start + sum_p.block, sum_p.rows);
  var acc = 0.0;
  for (var r = start; r < end; r++) { acc += sum_x[r * sum_p.cols + c]; }
  sum_out[(sum_p.out_row + b) * sum_p.cols + c] = acc * sum_p.scale;
}

// Vector pass: x read as vec4s. A super-row of q = lcm(cols, 4) / 4 vec4s starts on a row bound,
// so its vec4 j always holds the same four columns. Block b of super-rows sums into out row
// out_row + b (q vec4s; with cols not a multiple of 4 that row is lcm(cols, 4) / cols rows of
// cols, for the next pass to add). width lanes go across a super-row; the WG / width lanes down
// split the block into contiguous runs, then add their partial sums in workgroup memory.
// n counts the floats of x: the binding is rounded up to whole vec4s, and the floats past n are
// never counted. Columns past 65,535 workgroups start at vec4 col0.
struct SumVec4 { n: u32, q: u32, block: u32, out_row: u32, col0: u32, scale: f32 }

@group(0) @binding(0) var<storage, read> sum4_x: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> sum4_out: array<vec4f>;
@group(1) @binding(0) var<uniform> sum4_p: SumVec4;

var<workgroup> sum4_part: array<vec4f, WG>;

// wid.x: group of WG vec4 columns, wid.y: block of super-rows
@compute @workgroup_size(WG)
fn sum_rows_vec4(@builtin(local_invocation_index) l: u32, @builtin(workgroup_id) wid: vec3u) {
  let q = sum4_p.q;
  let n = sum4_p.n;
  let width = min(q, WG);
  let down = WG / width;
  let j = sum4_p.col0 + wid.x * WG + l % width;
  let r = l / width;
  let rows = (n + 4u * q - 1u) / (4u * q);
  let full = n / (4u * q); // super-rows wholly below n; at most one more is partial
  let start = wid.y * sum4_p.block;
  let end = min(start + sum4_p.block, rows);
  let per = (end - start + down - 1u) / down;
  var acc = vec4f(0.0);
  if (r < down && j < q) {
    let first = start + r * per;
    let last = min(first + per, end);
    var s = first;
    for (; s < min(last, full); s++) { acc += sum4_x[s * q + j]; }
    if (s < last) {
      let k = s * q + j;
      if (4u * k < n) { acc += select(vec4f(0.0), sum4_x[k], vec4u(0u, 1u, 2u, 3u) < vec4u(n - 4u * k)); }
    }
  }
  sum4_part[l] = acc;
  workgroupBarrier();
  if (l < width && j < q) {
    var total = sum4_part[l];
    for (var i = 1u; i < down; i++) { total += sum4_part[i * width + l]; }
    sum4_out[(sum4_p.out_row + wid.y) * q + j] = total * sum4_p.scale;
  }
}
