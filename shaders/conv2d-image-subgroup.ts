// conv2d for a network's first layer, on images (1 to 4 input channels), 3x3 filters at stride
// 1, on teams of 8 lanes (the `subgroups` feature; used where subgroups are exactly 8 lanes wide,
// as on lavapipe's AVX2 vectors): the forward pass, the filter gradient and the input gradient.
//
// Why: the general team kernels are built for many channels. With 1-4 input channels a pixel's
// 9-36 products are its whole sum, a filter has only 9-36 rows, and the input gradient has 1-4
// channels to sum into: the general kernels then waste most lanes or rows, carry accumulators
// (spilled to the stack) from tap to tap, or reload what a neighbouring lane already holds. On
// software Vulkan every storage access is a bounds-checked loop over the lanes and a spilled
// accumulator costs a load and a store per update; registers and subgroupShuffle (a register
// permute) are what is cheap. Each section says what it shares and how it was measured.
//
// Same Params as conv2d.wgsl (its shared block); bindings as the general kernels they replace:
// forward (x, w, bias, y) as conv2d_fwd_sg3, filter gradient (x, dy, partial) as
// conv2d_bwd_filter_sg, input gradient (dy, w, dx) as conv2d_bwd_input_slide*.

import conv2d from "./conv2d.wgsl";
import { f32Division, lines, range, sharedBlock, xAtFunction } from "./wgsl-text.js";

const K = 3;
/** Lanes per workgroup of the forward and input-gradient kernels: 4 teams of 8. */
export const IMAGE_TEAM_WG = 32;

// ---- forward (1 or 3 input channels): every output whole in registers ----
// A pixel's 9 or 27 products are its whole sum, so each output is summed in one expression and
// stored, with no accumulators carried between filter rows (conv2d_fwd_sg3 spills its 32
// accumulators and updates them once per tap: most of its time at one input channel). A team
// walks IMAGE_TEAM_ROWS output rows down one strip of IMAGE_TEAM_PIXELS pixels by 32 channels,
// keeping the 3 input rows under the current output row (2 * channels scalars per lane and row,
// shared by shuffles) and loading one new input row per output row; each lane's weights
// (9 * channels vec4s) are loaded once per team. Measured (kernel times) against conv2d_fwd_sg3:
// 32x28x28x1 -> 32 4.5 -> 1.6-1.9 ms, 8x224x224x3 -> 32 90 -> 36 ms. Rows under
// IMAGE_TEAM_PIXELS take conv2d_fwd_sg3.

/** Output rows per forward team (16: 10-20% slower); the last block of a column starts early. */
export const IMAGE_TEAM_ROWS = 32;
/** Output pixels per row of a forward team's strip (16: 10% faster, 1.6x the compile time). */
export const IMAGE_TEAM_PIXELS = 8;
const SI = IMAGE_TEAM_PIXELS;
const loadsI = Math.ceil((SI + K - 1) / 8); // inputs per lane per input row and channel
/** Input channels the forward kernels take (conv2d_fwd_img1, conv2d_fwd_img3). */
export const IMAGE_CHANNELS = [1, 3] as const;

function forwardEntry(C: number): string {
  const xs = (row: number) => range(C).flatMap((ci) => range(loadsI).map((t) => `x${row}_${ci}_${t}`));
  // input column j (first + j - pad_left) of row ky meets output pixel i at kx = j - i
  const sum = (i: number) =>
    range(K)
      .flatMap((ky) => range(K).flatMap((kx) => range(C).map((ci) => `subgroupShuffle(x${ky}_${ci}_${Math.floor((i + kx) / 8)}, base + ${(i + kx) % 8}u) * w${ky}_${kx}_${ci}`)))
      .join(" + ");
  return `
// workgroup_id (folded) * 4 + team: tile = ((image, row block, strip), channel block)
@compute @workgroup_size(${IMAGE_TEAM_WG})
fn conv2d_fwd_img${C}(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32) {
  let lane = sid & 7u;
  let base = sid & ~7u;
  let out_c4 = p.out_c / 4u;
  let blocks = (out_c4 + 7u) / 8u;
  let strips = (p.out_w + ${SI - 1}u) / ${SI}u;
  let row_blocks = (p.out_h + ${IMAGE_TEAM_ROWS - 1}u) / ${IMAGE_TEAM_ROWS}u;
  let tiles = p.batch * row_blocks * strips * blocks;
  // lanes past the last tile redo it (identical stores)
  let t = min((wid.x + wid.y * nwg.x) * ${IMAGE_TEAM_WG / 8}u + li / 8u, tiles - 1u);
  let s = img_div(t, blocks);
  let cg = min((t - s * blocks) * 8u + lane, out_c4 - 1u);
  let rb = img_div(s, strips);
  let first = min((s - rb * strips) * ${SI}u, max(p.out_w, ${SI}u) - ${SI}u);
  let n = img_div(rb, row_blocks);
  let rows = min(p.out_h, ${IMAGE_TEAM_ROWS}u);
  let oy0 = min((rb - n * row_blocks) * ${IMAGE_TEAM_ROWS}u, p.out_h - rows);
  let left = i32(first) - i32(p.pad_left) + i32(lane);
  let image = i32(n * p.in_h * p.in_w * p.in_c + p.x_off);
  let row_len = i32(p.in_w * p.in_c);
${lines(K, (ky) => lines(K, (kx) => lines(C, (ci) => `  let w${ky}_${kx}_${ci} = imf_w[((${ky * K + kx}u * p.in_c) + ${ci}u) * out_c4 + cg];`)))}
  var bias = vec4f(0.0);
  if (p.has_bias != 0u) { bias = imf_b[cg]; }
  let y_row = p.out_w * out_c4;
  var y = p.y_off / 4u + ((n * p.out_h + oy0) * p.out_w + first) * out_c4 + cg;
  // the input rows under output row oy: top, top + 1, top + 2 (x0_*, x1_*, x2_*)
  var top = i32(oy0) - i32(p.pad_top);
  let line0 = image + top * row_len;
  let ok0 = top >= 0 && top < i32(p.in_h);
  let line1 = line0 + row_len;
  let ok1 = top + 1 >= 0 && top + 1 < i32(p.in_h);
${lines(C, (ci) => lines(loadsI, (t) => `  var x0_${ci}_${t} = imf_x_at(line0 + ${ci}, left + ${8 * t}, ok0);`))}
${lines(C, (ci) => lines(loadsI, (t) => `  var x1_${ci}_${t} = imf_x_at(line1 + ${ci}, left + ${8 * t}, ok1);`))}
  for (var r = 0u; r < rows; r++) {
    let line2 = image + (top + 2) * row_len;
    let ok2 = top + 2 >= 0 && top + 2 < i32(p.in_h);
${lines(C, (ci) => lines(loadsI, (t) => `    let x2_${ci}_${t} = imf_x_at(line2 + ${ci}, left + ${8 * t}, ok2);`))}
${lines(SI, (i) => `    { let v = ${sum(i)} + bias; imf_y[y + ${i}u * out_c4] = select(v, relu4(v), p.relu != 0u); }`)}
    // the window moves down a row
${[...xs(0).map((v, k) => `    ${v} = ${xs(1)[k]};`), ...xs(1).map((v, k) => `    ${v} = ${xs(2)[k]};`)].join("\n")}
    top += 1;
    y += y_row;
  }
}
`;
}

// ---- filter gradient (1 or 3 input channels): x, dy -> partial sums ----
// conv2d_bwd_filter_sg gives a team 16 filter rows, so a 9-row filter (one input channel) wastes
// 7 of them, and it updates its 16 accumulators at every output pixel. Here a team holds all
// 9 * channels filter rows by 32 output channels (each lane 4) and walks its slice of output rows
// in strips of IMAGE_FILTER_PIXELS pixels: per strip a lane loads its 8 dy vec4s and 2 inputs per
// (filter row, channel), the team's inputs reach every lane by shuffles, and each accumulator
// takes the strip's 8 products in one update. Pixels past the row get dy = 0. One row of partial
// sums per slice of slice_rows output rows (n, oy), laid out as conv2d_bwd_filter_sg's; the op
// adds them up. Measured (kernel times) against conv2d_bwd_filter_sg: 8x224x224x3 -> 32 97 ->
// 55 ms, 32x28x28x1 -> 32 ~1.4x (noisy); 16-pixel strips were no faster.

/** Output pixels per strip. */
export const IMAGE_FILTER_PIXELS = 8;
/** Input channels the kernels take (conv2d_bwd_filter_img1, conv2d_bwd_filter_img3). */
export const IMAGE_FILTER_CHANNELS = [1, 3] as const;

const P = IMAGE_FILTER_PIXELS;
const loadsB = Math.ceil((P + K - 1) / 8); // inputs per lane per (filter row, channel)

function filterEntry(C: number): string {
  // filter row (ky, kx, ci) meets input column i + kx of the strip at its pixel i
  const sum = (ky: number, kx: number, ci: number) =>
    range(P)
      .map((i) => `subgroupShuffle(x${ky}_${ci}_${Math.floor((i + kx) / 8)}, base + ${(i + kx) % 8}u) * d${i}`)
      .join(" + ");
  const taps = range(K).flatMap((ky) => range(K).flatMap((kx) => range(C).map((ci) => [ky, kx, ci])));
  return `
// workgroup_id (folded): team = channel block + blocks * slice
@compute @workgroup_size(8)
fn conv2d_bwd_filter_img${C}(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let lane = sid & 7u;
  let base = sid & ~7u;
  let out_c4 = p.out_c / 4u;
  let blocks = (out_c4 + 7u) / 8u;
  let slices = (p.batch * p.out_h + p.slice_rows - 1u) / p.slice_rows;
  let team = min(wid.x + wid.y * nwg.x, blocks * slices - 1u);
  let slice = team / blocks;
  let col = min((team - slice * blocks) * 8u + lane, out_c4 - 1u);
  let first = slice * p.slice_rows;
  let end = min(first + p.slice_rows, p.batch * p.out_h);
  let row_len = i32(p.in_w * p.in_c);
${taps.map(([ky, kx, ci]) => `  var acc${ky}_${kx}_${ci} = vec4f(0.0);`).join("\n")}
  for (var out_row = first; out_row < end; out_row++) {
    let n = out_row / p.out_h;
    let top = i32(out_row - n * p.out_h) - i32(p.pad_top);
    let image = i32(n * p.in_h * p.in_w * p.in_c + p.x_off);
    let dy_row = p.y_off / 4u + out_row * p.out_w * out_c4 + col;
${lines(K, (ky) => `    let ok${ky} = top + ${ky} >= 0 && top + ${ky} < i32(p.in_h);\n    let line${ky} = image + (top + ${ky}) * row_len;`)}
    for (var ox = 0u; ox < p.out_w; ox += ${P}u) {
      let left = i32(ox) - i32(p.pad_left) + i32(lane);
${lines(P, (i) => `      let d${i} = select(vec4f(0.0), imb_dy[dy_row + min(ox + ${i}u, p.out_w - 1u) * out_c4], ox + ${i}u < p.out_w);`)}
${lines(K, (ky) => lines(C, (ci) => lines(loadsB, (t) => `      let x${ky}_${ci}_${t} = imb_x_at(line${ky} + ${ci}, left + ${8 * t}, ok${ky});`)))}
${taps.map(([ky, kx, ci]) => `      acc${ky}_${kx}_${ci} += ${sum(ky, kx, ci)};`).join("\n")}
    }
  }
  let rows = ${K * K}u * p.in_c;
  let at = (p.out_row + slice) * rows * out_c4 + col;
${taps.map(([ky, kx, ci]) => `  imb_partial[at + ${(ky * K + kx) * C + ci}u * out_c4] = acc${ky}_${kx}_${ci};`).join("\n")}
}
`;
}

// ---- input gradient (2 to 4 input channels): dy, w -> dx ----
// The row strips of conv2d.wgsl (conv2d_bwd_input_slide*) spend their time on loads: per dy row
// and group of 4 output channels a strip loads 18 dy vec4s and 3 * chans weight vec4s, the same
// weights every strip loads again, and each dy row once per filter row. Here lane l of a team
// loads dy row R + l only; the row that lane l needs at filter row ky is lane l - ky's, handed
// over by a shuffle. Lanes 2-7 then each sum one dx row (lanes 0 and 1 only load: their rows
// would need lanes -1 and -2). The weights of a filter row are the same for the whole team:
// lanes load one each and shuffle them too. Per group of 4 output channels a lane makes 18 + 1-2
// loads for 16 pixels x 9 taps, against 3 x (18 + 3 * chans); each accumulator takes a filter
// row's 3 taps in one update. Measured (kernel times) against the strips: 8x224x224x3 -> 32
// 160 -> 88 ms, 32x28x28x1 -> 32 7-8 -> 4-5.5 ms (one channel now has a kernel of its own, below).

/** dx pixels per lane (one row strip); the last strip of a row starts early to stay inside. */
export const INPUT_TEAM_PIXELS = 16;
/** dx rows per team: lanes 2-7 (lanes 0 and 1 load the two dy rows above them). */
export const INPUT_TEAM_ROWS = 6;
/** Input channels an entry point sums (conv2d_bwd_input_img{2,3,4}; one channel: below). */
export const INPUT_TEAM_CHANNELS = [2, 3, 4] as const;

const D = INPUT_TEAM_PIXELS + K - 1; // dy columns under a strip

function inputGradientEntry(J: number): string {
  const taps = K * J; // weight vec4s of one filter row: (kx, ci)
  const wLoads = Math.ceil(taps / 8);
  // weight (kx, ci) of filter row ky sits in lane t % 8 of load t / 8, t = kx * J + ci
  const weight = (kx: number, ci: number) => {
    const t = kx * J + ci;
    return `subgroupShuffle(wl${Math.floor(t / 8)}, base + ${t % 8}u)`;
  };
  // dx pixel i meets dy column i + 2 - kx of the strip's window (d0 .. d${D - 1})
  const sums = lines(INPUT_TEAM_PIXELS, (i) =>
    lines(J, (ci) => {
      const terms = range(K).map((kx) => `dot(r${i + K - 1 - kx}, w${kx}_${ci})`);
      return `      acc${i}_${ci} += ${terms.join(" + ")};`;
    }),
  );
  const store = lines(INPUT_TEAM_PIXELS, (i) => lines(J, (ci) => `    imi_dx[at + ${i * J + ci}u] = acc${i}_${ci};`));
  return `
// workgroup_id (folded) * 4 + team: tile = (image, row block, strip)
@compute @workgroup_size(${IMAGE_TEAM_WG})
fn conv2d_bwd_input_img${J}(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32) {
  let lane = sid & 7u;
  let base = sid & ~7u;
  let out_c4 = p.out_c / 4u;
  let strips = (p.in_w + ${INPUT_TEAM_PIXELS - 1}u) / ${INPUT_TEAM_PIXELS}u;
  let row_blocks = (p.in_h + ${INPUT_TEAM_ROWS - 1}u) / ${INPUT_TEAM_ROWS}u;
  let tiles = p.batch * row_blocks * strips;
  // lanes past the last tile redo it (identical stores)
  let t = min((wid.x + wid.y * nwg.x) * ${IMAGE_TEAM_WG / 8}u + li / 8u, tiles - 1u);
  let s = t / strips;
  let first = min((t - s * strips) * ${INPUT_TEAM_PIXELS}u, p.in_w - ${INPUT_TEAM_PIXELS}u);
  let n = s / row_blocks;
  let iy0 = (s - n * row_blocks) * ${INPUT_TEAM_ROWS}u; // dx row of lane 2
  // this lane's dy row: lane l holds the row that dx row iy0 + l - 2 meets at filter row 0
  let oy = i32(iy0 + p.pad_top) - 2 + i32(lane);
  let row_ok = oy >= 0 && oy < i32(p.out_h);
  let line = i32(p.y_off / 4u) + (i32(n * p.out_h) + oy) * i32(p.out_w * out_c4);
  let left = i32(first + p.pad_left) - ${K - 1}; // dy column of d0
${lines(INPUT_TEAM_PIXELS, (i) => lines(J, (ci) => `  var acc${i}_${ci} = 0.0;`))}
  for (var co4 = 0u; co4 < out_c4; co4++) {
${lines(D, (j) => `    let d${j} = imi_dy_at(line + i32(co4), left + ${j}, row_ok);`)}
    for (var ky = 0u; ky < ${K}u; ky++) {
      // weights w[ky, kx, ci, co4 group] of this filter row, one per lane
      let wrow = ky * ${K}u * p.in_c;
${lines(wLoads, (q) => `      let wl${q} = imi_w[(wrow + min(${8 * q}u + lane, ${taps - 1}u) / ${J}u * p.in_c + (${8 * q}u + lane) % ${J}u) * out_c4 + co4];`)}
${lines(K, (kx) => lines(J, (ci) => `      let w${kx}_${ci} = ${weight(kx, ci)};`))}
      // dy row of lane - ky (lanes 0 and 1 take their own: their sums are never stored)
      let src_lane = base + select(lane - ky, lane, lane < ky);
${lines(D, (j) => `      let r${j} = subgroupShuffle(d${j}, src_lane);`)}
${sums}
    }
  }
  let iy = iy0 + lane - 2u;
  if (lane >= 2u && iy < p.in_h) {
    let at = p.x_off + ((n * p.in_h + iy) * p.in_w + first) * ${J}u;
${store}
  }
}
`;
}



// ---- input gradient of a one-channel image: dy, w -> dx ----
// With one input channel a dy vec4 (4 output channels) meets 9 taps, so it feeds at most 36
// multiply-adds: loads bound this kernel (in llvmpipe's code ~85% of the instructions are the
// per-lane, bounds-checked loads) and the aim is to load each dy vec4 once. Here lane l of a
// team owns output channels 4 (l + 8 b) .. + 3 (blocks b of 32 channels), and holds their 9
// weight vec4s; the team walks down a strip of GRAY_PIXELS dx pixels, loading each dy row of the
// strip's window once (GRAY_PIXELS + 2 vec4s a lane). dy row oy completes dx row oy - pad_top
// (tap row 0) and adds to the next two, so each lane carries two rows of partial sums, over its
// own channels; a completed row's sums are then added across the team by a reduce-scatter (3
// xor-shuffle steps), after which lane l holds dx pixel l whole and stores it. Measured (kernel
// times, lavapipe) against conv2d_bwd_input_img's strip design for one channel: 32x28x28x1 -> 32
// 3.7-4.6 -> 2.5-2.9 ms. The same design for 3 channels ran ~5% faster at 224x224 but took 7.7 s
// to compile (LLVM, first dispatch) against 2.1, so 2-4 channels keep the strips.

/** dx pixels per strip: one per lane after the reduction (16: as fast, twice the compile time). */
export const GRAY_PIXELS = 8;
/** dx rows per team; the last block of a column starts early (blocks of 8 ran 1.3x slower). */
export const GRAY_ROWS = 32;

function grayInputGradientEntry(): string {
  // dx pixel i meets dy column i + 2 - kx of the window d0 .. d9 at filter column kx
  const taps = (ky: number, i: number) => range(K).map((kx) => `dot(d${i + K - 1 - kx}, w${ky}_${kx})`).join(" + ");
  const weights = (indent: string, valid: string, group: string) =>
    range(K * K)
      .map((t) => `${indent}w${Math.floor(t / K)}_${t % K} = select(vec4f(0.0), imi_w[${t}u * out_c4 + ${group}], ${valid});`)
      .join("\n");
  // reduce-scatter: each step swaps half of the values with lane ^ mask and adds, keeping the
  // half this lane's bit selects; after masks 4, 2, 1 lane l holds pixel l
  const reduce: string[] = [];
  let names = range(GRAY_PIXELS).map((i) => `o${i}`);
  for (const mask of [4, 2, 1]) {
    const half = names.length / 2;
    names = range(half).map((k) => {
      const [lo, hi, name] = [names[k], names[k + half], `r${mask}_${k}`];
      reduce.push(`    let ${name} = select(${lo}, ${hi}, h${mask}) + subgroupShuffleXor(select(${hi}, ${lo}, h${mask}), ${mask}u);`);
      return name;
    });
  }
  return `
// workgroup_id (folded) * 4 + team: tile = (image, row block, strip)
@compute @workgroup_size(${IMAGE_TEAM_WG})
fn conv2d_bwd_input_img1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32) {
  let lane = sid & 7u;
  let h4 = (lane & 4u) != 0u;
  let h2 = (lane & 2u) != 0u;
  let h1 = (lane & 1u) != 0u;
  let out_c4 = p.out_c / 4u;
  let blocks = (out_c4 + 7u) / 8u;
  let strips = (p.in_w + ${GRAY_PIXELS - 1}u) / ${GRAY_PIXELS}u;
  let rows = min(p.in_h, ${GRAY_ROWS}u);
  let row_blocks = (p.in_h + rows - 1u) / rows;
  let tiles = p.batch * row_blocks * strips;
  // teams past the last tile redo it (identical stores)
  let t = min((wid.x + wid.y * nwg.x) * ${IMAGE_TEAM_WG / 8}u + li / 8u, tiles - 1u);
  let s = t / strips;
  let first = (t - s * strips) * ${GRAY_PIXELS}u;
  let n = s / row_blocks;
  let iy0 = min((s - n * row_blocks) * rows, p.in_h - rows);
  let left = i32(first + p.pad_left) - ${K - 1}; // dy column of d0
  let image = i32(p.y_off / 4u + n * p.out_h * p.out_w * out_c4);
  let dx_row0 = p.x_off + (n * p.in_h + iy0) * p.in_w + first + lane;
  let px_ok = first + lane < p.in_w;
  // this lane's weights for block 0, reloaded per block only where there are more
${weights("  var ", "lane < out_c4", "min(lane, out_c4 - 1u)")}
${lines(GRAY_PIXELS, (i) => `  var a${i} = 0.0; // dx row iy + 1, taps of rows 2 and 1\n  var b${i} = 0.0; // dx row iy + 2, taps of row 2`)}
  // two steps before the first stored row start its sums
  for (var step = 0u; step < rows + ${K - 1}u; step++) {
    let oy = i32(iy0 + step) - ${K - 1} + i32(p.pad_top);
    let row_ok = oy >= 0 && oy < i32(p.out_h);
${lines(GRAY_PIXELS, (i) => `    var o${i} = a${i};\n    a${i} = b${i};\n    b${i} = 0.0;`)}
    // dy rows outside dy add nothing: skip their loads (the same for the whole team)
    for (var blk = 0u; blk < select(0u, blocks, row_ok); blk++) {
      let co4 = blk * 8u + lane;
      let group = min(co4, out_c4 - 1u);
      if (blocks > 1u) {
${weights("        ", "co4 < out_c4", "group")}
      }
      let line = image + oy * i32(p.out_w * out_c4) + i32(group);
${lines(GRAY_PIXELS + K - 1, (j) => `      let d${j} = imi_dy_at(line, left + ${j}, true);`)}
${lines(GRAY_PIXELS, (i) => `      o${i} += ${taps(0, i)};\n      a${i} += ${taps(1, i)};\n      b${i} += ${taps(2, i)};`)}
    }
${reduce.join("\n")}
    if (step >= ${K - 1}u && px_ok) {
      imi_dx[dx_row0 + (step - ${K - 1}u) * p.in_w] = ${names[0]};
    }
  }
}
`;
}

const header = `enable subgroups;
// generated by shaders/conv2d-image-subgroup.ts

${sharedBlock(conv2d, "shaders/conv2d.wgsl")}
${f32Division("img_div")}
`;

const forwardBindings = `
@group(0) @binding(0) var<storage, read> imf_x: array<f32>;
@group(0) @binding(1) var<storage, read> imf_w: array<vec4f>;
@group(0) @binding(2) var<storage, read> imf_b: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> imf_y: array<vec4f>;
${xAtFunction("imf_x_at", "imf_x")}
`;

const filterBindings = `
@group(0) @binding(0) var<storage, read> imb_x: array<f32>;
@group(0) @binding(1) var<storage, read> imb_dy: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> imb_partial: array<vec4f>;
${xAtFunction("imb_x_at", "imb_x")}
`;

const inputBindings = `
@group(0) @binding(0) var<storage, read> imi_dy: array<vec4f>;
@group(0) @binding(1) var<storage, read> imi_w: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> imi_dx: array<f32>;

/** dy (4 channels) at column ox of the dy row starting at \`line\`; 0 outside dy. */
fn imi_dy_at(line: i32, ox: i32, row_ok: bool) -> vec4f {
  let inside = row_ok && ox >= 0 && ox < i32(p.out_w);
  return select(vec4f(0.0), imi_dy[select(0, line + ox * i32(p.out_c / 4u), inside)], inside);
}
`;

/**
 * One WGSL module per entry point (conv2d_fwd_img{1,3}, conv2d_bwd_filter_img{1,3},
 * conv2d_bwd_input_img{1..4}): each pipeline then compiles only its own kernel's text.
 */
export const conv2dImageSources: Record<string, string> = Object.fromEntries([
  ...IMAGE_CHANNELS.map((c) => [`conv2d_fwd_img${c}`, header + forwardBindings + forwardEntry(c)]),
  ...IMAGE_FILTER_CHANNELS.map((c) => [`conv2d_bwd_filter_img${c}`, header + filterBindings + filterEntry(c)]),
  ["conv2d_bwd_input_img1", header + inputBindings + grayInputGradientEntry()],
  ...INPUT_TEAM_CHANNELS.map((c) => [`conv2d_bwd_input_img${c}`, header + inputBindings + inputGradientEntry(c)]),
]);
