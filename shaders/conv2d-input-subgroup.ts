// conv2d input gradient for images (1 to 4 input channels), 3x3 filters at stride 1, on teams of
// 8 lanes (the `subgroups` feature; used where subgroups are exactly 8 lanes wide, as on
// lavapipe's AVX2 vectors).
//
// Why: on software Vulkan every storage load is a bounds-checked loop over the lanes, so the
// row strips of conv2d.wgsl (conv2d_bwd_input_slide*) spend their time on loads: per dy row and
// group of 4 output channels a strip loads 18 dy vec4s and 3 * chans weight vec4s, the same
// weights every strip loads again, and each dy row once per filter row. Here lane l of a team
// loads dy row R + l only; the row that lane l needs at filter row ky is lane l - ky's, handed
// over by subgroupShuffle (a register permute). Lanes 2-7 then each sum one dx row (lanes 0
// and 1 only load: their rows would need lanes -1 and -2). The weights of a filter row are the
// same for the whole team: lanes load one each and shuffle them too. Per group of 4 output
// channels a lane makes 18 + 1-2 loads for 16 pixels x 9 taps, against 3 x (18 + 3 * chans).
// Each accumulator takes a filter row's 3 taps in one update (accumulators live on the stack).
//
// Bindings as conv2d_bwd_input_slide* (dy, w, dx) and the same Params. The op picks this kernel
// for 3x3 filters at stride 1, in_c <= 4, out_c % 4 == 0 and rows of at least PIXELS pixels.

import conv2d from "./conv2d.wgsl";
import { lines, range, sharedBlock } from "./wgsl-text.js";

/** dx pixels per lane (one row strip); the last strip of a row starts early to stay inside. */
export const INPUT_TEAM_PIXELS = 16;
/** dx rows per team: lanes 2-7 (lanes 0 and 1 load the two dy rows above them). */
export const INPUT_TEAM_ROWS = 6;
/** Lanes per workgroup: 4 teams of 8. */
export const INPUT_TEAM_WG = 32;
/** Input channels an entry point sums (conv2d_bwd_input_sg{1..4}). */
export const INPUT_TEAM_CHANNELS = [1, 2, 3, 4] as const;

const S = INPUT_TEAM_PIXELS;
const K = 3;
const D = S + K - 1; // dy columns under a strip

function entry(J: number): string {
  const taps = K * J; // weight vec4s of one filter row: (kx, ci)
  const wLoads = Math.ceil(taps / 8);
  // weight (kx, ci) of filter row ky sits in lane t % 8 of load t / 8, t = kx * J + ci
  const weight = (kx: number, ci: number) => {
    const t = kx * J + ci;
    return `subgroupShuffle(wl${Math.floor(t / 8)}, base + ${t % 8}u)`;
  };
  // dx pixel i meets dy column i + 2 - kx of the strip's window (d0 .. d${D - 1})
  const sums = lines(S, (i) =>
    lines(J, (ci) => {
      const terms = range(K).map((kx) => `dot(r${i + K - 1 - kx}, w${kx}_${ci})`);
      return `      acc${i}_${ci} += ${terms.join(" + ")};`;
    }),
  );
  const store = lines(S, (i) => lines(J, (ci) => `    sgi_dx[at + ${i * J + ci}u] = acc${i}_${ci};`));
  return `
// workgroup_id (folded) * 4 + team: tile = (image, row block, strip)
@compute @workgroup_size(${INPUT_TEAM_WG})
fn conv2d_bwd_input_sg${J}(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32) {
  let lane = sid & 7u;
  let base = sid & ~7u;
  let out_c4 = p.out_c / 4u;
  let strips = (p.in_w + ${S - 1}u) / ${S}u;
  let row_blocks = (p.in_h + ${INPUT_TEAM_ROWS - 1}u) / ${INPUT_TEAM_ROWS}u;
  let tiles = p.batch * row_blocks * strips;
  // lanes past the last tile redo it (identical stores)
  let t = min((wid.x + wid.y * nwg.x) * ${INPUT_TEAM_WG / 8}u + li / 8u, tiles - 1u);
  let s = t / strips;
  let first = min((t - s * strips) * ${S}u, p.in_w - ${S}u);
  let n = s / row_blocks;
  let iy0 = (s - n * row_blocks) * ${INPUT_TEAM_ROWS}u; // dx row of lane 2
  // this lane's dy row: lane l holds the row that dx row iy0 + l - 2 meets at filter row 0
  let oy = i32(iy0 + p.pad_top) - 2 + i32(lane);
  let row_ok = oy >= 0 && oy < i32(p.out_h);
  let line = i32(p.y_off / 4u) + (i32(n * p.out_h) + oy) * i32(p.out_w * out_c4);
  let left = i32(first + p.pad_left) - ${K - 1}; // dy column of d0
${lines(S, (i) => lines(J, (ci) => `  var acc${i}_${ci} = 0.0;`))}
  for (var co4 = 0u; co4 < out_c4; co4++) {
${lines(D, (j) => `    let d${j} = sgi_dy_at(line + i32(co4), left + ${j}, row_ok);`)}
    for (var ky = 0u; ky < ${K}u; ky++) {
      // weights w[ky, kx, ci, co4 group] of this filter row, one per lane
      let wrow = ky * ${K}u * p.in_c;
${lines(wLoads, (q) => `      let wl${q} = sgi_w[(wrow + min(${8 * q}u + lane, ${taps - 1}u) / ${J}u * p.in_c + (${8 * q}u + lane) % ${J}u) * out_c4 + co4];`)}
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

/** The WGSL source of conv2d_bwd_input_sg{1..4}. */
export const conv2dInputSubgroupSource = `enable subgroups;
// generated by shaders/conv2d-input-subgroup.ts

${sharedBlock(conv2d, "shaders/conv2d.wgsl")}
@group(0) @binding(0) var<storage, read> sgi_dy: array<vec4f>;
@group(0) @binding(1) var<storage, read> sgi_w: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> sgi_dx: array<f32>;

/** dy (4 channels) at column ox of the dy row starting at \`line\`; 0 outside dy. */
fn sgi_dy_at(line: i32, ox: i32, row_ok: bool) -> vec4f {
  let inside = row_ok && ox >= 0 && ox < i32(p.out_w);
  return select(vec4f(0.0), sgi_dy[select(0, line + ox * i32(p.out_c / 4u), inside)], inside);
}
${INPUT_TEAM_CHANNELS.map(entry).join("")}`;
