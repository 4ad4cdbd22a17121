// conv2d forward for 3x3 filters at stride 1 on teams of 8 lanes (the `subgroups` feature; used
// where subgroups are exactly 8 lanes wide, as on lavapipe's AVX2 vectors).
//
// Why: on software Vulkan every storage load or store is a bounds-checked loop over the lanes, a
// u32 division is one per lane, and kernels written with loops over local arrays keep those
// arrays in memory. A team computes a block of ROWS x PIXELS output pixels by 32 channels, each
// lane the block's pixels by its own 4 channels, written out unrolled. Per (filter row, input
// channel) a lane loads its 3 weight vec4s once for the whole block; per output row the team
// needs the PIXELS + 2 inputs under it: each lane loads 3 and subgroupShuffle (a register
// permute) hands every value to every lane. The filter rows stay a loop: llvmpipe compiles a
// kernel at its first dispatch in time that grows with the unrolled body, and with the filter
// rows unrolled too it took twice as long to compile (2.6 s) and ran 15-30% slower.
//
// Same Params and bindings as conv2d_fwd_slide in shaders/conv2d.wgsl (x, w, bias, y). The op
// picks this kernel for 3x3 filters, stride 1, out_c % 4 == 0, out_h >= ROWS (any out_w), unless
// in_c is 16 or more in fours: then conv2d-gemm-subgroup.ts runs.
// The last block of a row or column starts early and channel groups past out_c repeat the last
// one: edge teams recompute outputs another team also writes, with the same values.

import conv2d from "./conv2d.wgsl";
import { f32Division, lines, range, sharedBlock } from "./wgsl-text.js";

/** Output rows and pixels per row of a team's block (1 row ran as fast as 2, 4 slower). */
export const FORWARD_TEAM_ROWS = 2;
export const FORWARD_TEAM_PIXELS = 16;
/** Lanes per workgroup: 4 teams of 8. */
export const FORWARD_TEAM_WG = 32;
/** Teams index their block with f32 division, exact below 2^22 (the op checks). */
export const FORWARD_TEAM_MAX_TILES = 2 ** 22;

const R = FORWARD_TEAM_ROWS;
const S = FORWARD_TEAM_PIXELS;
const K = 3;
const loads = Math.ceil((S + K - 1) / 8); // inputs per lane per input row

/** Output row o of the block at filter row ky (input row o + ky): its loads and multiply-adds. */
function outputRow(o: number): string {
  // input j (column first + j - pad_left) meets output pixel i at filter column kx = j - i
  const body = lines(S + K - 1, (j) => {
    const taps = range(K).filter((kx) => j - kx >= 0 && j - kx < S).map((kx) => `acc${o}_${j - kx} += v * w${kx};`);
    return `      { let v = subgroupShuffle(x${Math.floor(j / 8)}, base + ${j % 8}u); ${taps.join(" ")} }`;
  });
  return `    {
      let iy = top + ${o} + i32(ky);
      let row_ok = iy >= 0 && iy < i32(p.in_h);
      let line = image + iy * i32(p.in_w * p.in_c) + i32(ci);
${lines(loads, (t) => `      let x${t} = sgf_x_at(line, left + ${8 * t}, row_ok);`)}
${body}
    }`;
}

/** Stores output row o's pixel `at` (a u32 expression) of the block: `value` plus bias, relu. */
function store(o: number, value: string, at: string): string {
  return `  { let v = ${value} + bias; sgf_y[y0 + ${o}u * y_row + ${at} * out_c4] = select(v, max(v, vec4f(0.0)), p.relu != 0u); }`;
}

// ---- images (1 or 3 input channels): every output whole in registers ----
// With so few input channels a pixel's 9 or 27 products are its whole sum, so each output is
// summed in one expression and stored, with no accumulators carried between filter rows (the
// kernel above spills its 32 accumulators and updates them once per tap: most of its time at
// one input channel). A team walks IMAGE_TEAM_ROWS output rows down one strip of
// IMAGE_TEAM_PIXELS pixels by 32 channels, keeping the 3 input rows under the current output row
// (2 * channels scalars per lane and row, shared by shuffles) and loading one new input row per
// output row; each lane's weights (9 * channels vec4s) are loaded once per team. Measured
// (lavapipe, kernel times) against conv2d_fwd_sg3: 32x28x28x1 -> 32 4.5 -> 1.6-1.9 ms,
// 8x224x224x3 -> 32 90 -> 36 ms. Rows under IMAGE_TEAM_PIXELS take conv2d_fwd_sg3.

/** Output rows per team of the image kernels (16: 10-20% slower); the last block starts early. */
export const IMAGE_TEAM_ROWS = 32;
/** Output pixels per row of a team's strip (16 ran 10% faster but took 1.6x as long to compile). */
export const IMAGE_TEAM_PIXELS = 8;
const SI = IMAGE_TEAM_PIXELS;
const loadsI = Math.ceil((SI + K - 1) / 8);
/** Input channels the image kernels take (conv2d_fwd_img1, conv2d_fwd_img3). */
export const IMAGE_CHANNELS = [1, 3] as const;

function imageEntry(C: number): string {
  const xs = (row: number) => range(C).flatMap((ci) => range(loadsI).map((t) => `x${row}_${ci}_${t}`));
  // input column j (first + j - pad_left) of row ky meets output pixel i at kx = j - i
  const sum = (i: number) =>
    range(K)
      .flatMap((ky) => range(K).flatMap((kx) => range(C).map((ci) => `subgroupShuffle(x${ky}_${ci}_${Math.floor((i + kx) / 8)}, base + ${(i + kx) % 8}u) * w${ky}_${kx}_${ci}`)))
      .join(" + ");
  return `
@compute @workgroup_size(${FORWARD_TEAM_WG})
fn conv2d_fwd_img${C}(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32) {
  let lane = sid & 7u;
  let base = sid & ~7u;
  let out_c4 = p.out_c / 4u;
  let blocks = (out_c4 + 7u) / 8u;
  let strips = (p.out_w + ${SI - 1}u) / ${SI}u;
  let row_blocks = (p.out_h + ${IMAGE_TEAM_ROWS - 1}u) / ${IMAGE_TEAM_ROWS}u;
  let tiles = p.batch * row_blocks * strips * blocks;
  let t = min((wid.x + wid.y * nwg.x) * ${FORWARD_TEAM_WG / 8}u + li / 8u, tiles - 1u);
  let s = sgf_div(t, blocks);
  let cg = min((t - s * blocks) * 8u + lane, out_c4 - 1u);
  let rb = sgf_div(s, strips);
  let first = min((s - rb * strips) * ${SI}u, max(p.out_w, ${SI}u) - ${SI}u);
  let n = sgf_div(rb, row_blocks);
  let rows = min(p.out_h, ${IMAGE_TEAM_ROWS}u);
  let oy0 = min((rb - n * row_blocks) * ${IMAGE_TEAM_ROWS}u, p.out_h - rows);
  let left = i32(first) - i32(p.pad_left) + i32(lane);
  let image = i32(n * p.in_h * p.in_w * p.in_c + p.x_off);
  let row_len = i32(p.in_w * p.in_c);
${lines(K, (ky) => lines(K, (kx) => lines(C, (ci) => `  let w${ky}_${kx}_${ci} = sgf_w[((${ky * K + kx}u * p.in_c) + ${ci}u) * out_c4 + cg];`)))}
  var bias = vec4f(0.0);
  if (p.has_bias != 0u) { bias = sgf_b[cg]; }
  let y_row = p.out_w * out_c4;
  var y = p.y_off / 4u + ((n * p.out_h + oy0) * p.out_w + first) * out_c4 + cg;
  // the input rows under output row oy: top, top + 1, top + 2 (x0_*, x1_*, x2_*)
  var top = i32(oy0) - i32(p.pad_top);
  let line0 = image + top * row_len;
  let ok0 = top >= 0 && top < i32(p.in_h);
  let line1 = line0 + row_len;
  let ok1 = top + 1 >= 0 && top + 1 < i32(p.in_h);
${lines(C, (ci) => lines(loadsI, (t) => `  var x0_${ci}_${t} = sgf_x_at(line0 + ${ci}, left + ${8 * t}, ok0);`))}
${lines(C, (ci) => lines(loadsI, (t) => `  var x1_${ci}_${t} = sgf_x_at(line1 + ${ci}, left + ${8 * t}, ok1);`))}
  for (var r = 0u; r < rows; r++) {
    let line2 = image + (top + 2) * row_len;
    let ok2 = top + 2 >= 0 && top + 2 < i32(p.in_h);
${lines(C, (ci) => lines(loadsI, (t) => `    let x2_${ci}_${t} = sgf_x_at(line2 + ${ci}, left + ${8 * t}, ok2);`))}
${lines(SI, (i) => `    { let v = ${sum(i)} + bias; sgf_y[y + ${i}u * out_c4] = select(v, max(v, vec4f(0.0)), p.relu != 0u); }`)}
${[...xs(0).map((v, k) => `    ${v} = ${xs(1)[k]};`), ...xs(1).map((v, k) => `    ${v} = ${xs(2)[k]};`)].join("\n")}
    top += 1;
    y += y_row;
  }
}
`;
}

/** The WGSL source of conv2d_fwd_sg3, conv2d_fwd_img1 and conv2d_fwd_img3. */
export const conv2dForwardSubgroupSource = `enable subgroups;
// generated by shaders/conv2d-forward-subgroup.ts

${sharedBlock(conv2d, "shaders/conv2d.wgsl")}
@group(0) @binding(0) var<storage, read> sgf_x: array<f32>;
@group(0) @binding(1) var<storage, read> sgf_w: array<vec4f>;
@group(0) @binding(2) var<storage, read> sgf_b: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> sgf_y: array<vec4f>;

/** x at column ix of the row starting at \`line\` (channel included); 0 in the padding. */
fn sgf_x_at(line: i32, ix: i32, row_ok: bool) -> f32 {
  let inside = row_ok && ix >= 0 && ix < i32(p.in_w);
  return select(0.0, sgf_x[select(0, line + ix * i32(p.in_c), inside)], inside);
}

${f32Division("sgf_div")}

// workgroup_id (folded) * 4 + team: tile = ((image, row block, strip), channel block)
@compute @workgroup_size(${FORWARD_TEAM_WG})
fn conv2d_fwd_sg3(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32) {
  let lane = sid & 7u;
  let base = sid & ~7u;
  let out_c4 = p.out_c / 4u;
  let blocks = (out_c4 + 7u) / 8u;
  let strips = (p.out_w + ${S - 1}u) / ${S}u;
  let row_blocks = (p.out_h + ${R - 1}u) / ${R}u;
  let tiles = p.batch * row_blocks * strips * blocks;
  // lanes past the last tile redo it (identical stores)
  let t = min((wid.x + wid.y * nwg.x) * ${FORWARD_TEAM_WG / 8}u + li / 8u, tiles - 1u);
  let s = sgf_div(t, blocks);
  let cg = min((t - s * blocks) * 8u + lane, out_c4 - 1u);
  let rb = sgf_div(s, strips); // n * row_blocks + row block
  let first = min((s - rb * strips) * ${S}u, max(p.out_w, ${S}u) - ${S}u); // 0 when out_w < ${S}
  let n = sgf_div(rb, row_blocks);
  let oy = min((rb - n * row_blocks) * ${R}u, p.out_h - ${R}u);
  let top = i32(oy) - i32(p.pad_top);
  let left = i32(first) - i32(p.pad_left) + i32(lane);
  let image = i32(n * p.in_h * p.in_w * p.in_c + p.x_off);
  let tap = p.in_c * out_c4; // weights of (ky, kx + 1, ci) after those of (ky, kx, ci)
${lines(R, (o) => lines(S, (i) => `  var acc${o}_${i} = vec4f(0.0);`))}
  for (var ky = 0u; ky < ${K}u; ky++) {
    for (var ci = 0u; ci < p.in_c; ci++) {
      let wk = (ky * ${K}u * p.in_c + ci) * out_c4 + cg;
${lines(K, (kx) => `      let w${kx} = sgf_w[wk + ${kx}u * tap];`)}
${lines(R, outputRow)}
    }
  }
  var bias = vec4f(0.0);
  if (p.has_bias != 0u) { bias = sgf_b[cg]; }
  let y0 = p.y_off / 4u + ((n * p.out_h + oy) * p.out_w + first) * out_c4 + cg;
  let y_row = p.out_w * out_c4;
  // rows narrower than the block (out_w < ${S}): pixels past the row store pixel 0 again instead
  // (a select, not a branch: branches around stores multiply llvmpipe's compile time)
${lines(R, (o) => lines(S, (i) => i === 0 ? store(o, `acc${o}_0`, "0u") : store(o, `select(acc${o}_0, acc${o}_${i}, ${i}u < p.out_w)`, `select(0u, ${i}u, ${i}u < p.out_w)`)))}
}
${IMAGE_CHANNELS.map(imageEntry).join("")}`;
