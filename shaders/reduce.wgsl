// Column sums: out[b, c] = scale * sum of x[r, c] over the rows r of block b.
// Applied repeatedly until one block remains; gives bias gradients (sum over rows of dy) and,
// with one column, the total sum (mean loss, accuracy).

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
