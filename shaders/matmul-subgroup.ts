// Matrix products that share operand loads across a subgroup of 8 lanes (the `subgroups`
// feature; used where subgroups are exactly 8 lanes wide, as on lavapipe's AVX2 vectors).
//
// Why: on software Vulkan a storage load costs a bounds-checked loop over the lanes (~5 cycles
// per float per lane) and arithmetic is nearly free, so speed is loads per multiply-add. Here a
// team of 8 lanes computes a TM x 32 block of C, each lane TM rows x 4 columns. Per 4 steps of k,
// each lane loads its own 4 vec4 of B, and TM/8 vec4 of A; the team's TM x 4 values of A reach
// every lane by subgroupShuffle (a register permute). That is TM*16 multiply-adds per
// (4 + TM/8) loads, against 16 per 2 for a plain 4x4 tile: measured 13-15 GFLOP/s of CPU time
// on matmul 1024^3 against 4-6.
//
// Written out unrolled (this file generates the text) because NIR leaves loops over local arrays
// of accumulators in memory: the same kernel with WGSL loops ran at 4 GFLOP/s. llvmpipe compiles
// a kernel at its first dispatch, in time that grows with the unrolled body, so the body is as
// short as the loads allow: 4 steps of k (1.4-1.7 s for TM = 32; 8 steps took 3-3.6 s and ran no
// faster), and the stores have no branches (per-row guards took it to 8-12 s).
//
// Same Params, bindings, layouts and epilogue as shaders/matmul.wgsl (see there) but for
// ACCUMULATE: element (r, c) of A lives at a_off + r * a_sm + c * a_sk of its binding, B likewise
// with b_sk / b_sn, C with ldc. The op picks these kernels only when k % 8 == 0, n % 4 == 0,
// every vec4-loaded stride and offset is a multiple of 4, (tn) m % 4 == 0, and C is overwritten.
// Rows past m and column groups past n clamp their loads and so compute the last row's or
// group's values again, which they store there again. Split-K: workgroup z covers one slice of
// k (k_slice deep, a multiple of 8) and writes its partial product c_slice elements further into C.

import matmul from "./matmul.wgsl";
import { lines, range, sharedBlock } from "./wgsl-text.js";

/**
 * Rows of C per team: 32 for tall products (32 accumulators of vec4 per lane: spilled to the
 * stack, which costs far less than loads; 15% faster than 16 on matmul 1024^3 and one pass over
 * B for a batch of 32), 16, or 8 for products with at most 8 rows (a batch of 8), which would
 * waste most of a taller team.
 */
export const SUBGROUP_ROWS = [8, 16, 32] as const;
/**
 * Lanes per workgroup: one team, so a workgroup covers TM x 32 of C. Against 4 teams side by side
 * (TM x 128) this wastes less on sizes off 128 and balances the cores better: kernel medians
 * 184^3 2.4 -> 1.7-2.0 ms, 416^3 15 -> 11-14, 696^3 67-76 -> 58-61; 1024^3 and the training
 * steps the same (lavapipe, interleaved runs).
 */
export const SUBGROUP_WG = 8;
export const subgroupTile = (rows: number) => ({ rows, cols: (SUBGROUP_WG / 8) * 32 });

type Layout = "nn" | "nt" | "tn";

function entry(layout: Layout, TM: number): string {
  const v = `sg${TM}${layout}`; // binding variable prefix
  const aAlongK = layout !== "tn"; // A's vec4 runs along k (nn, nt) or along m (tn)
  const bAlongN = layout !== "nt"; // B's vec4 runs along n (nn, tn) or along k (nt)

  // --- loads for one step of 4 along k ---
  const loadA = aAlongK
    ? // rows lane, lane + 8, ... of the team, depths k .. k+3
      lines(TM / 8, (j) => `    let ar${j} = ${v}_a[a_row${j} + (k >> 2u)];`)
    : // row groups 2j + lane / 4 (rows 4 * group .. + 3) at depth k + lane % 4
      lines(TM / 8, (j) => `    let ar${j} = ${v}_a[(mm.a_off + (k + (lane & 3u)) * mm.a_sk) / 4u + rgrp${j}];`);
  const loadB = bAlongN
    ? lines(4, (q) => `    let b${q} = ${v}_b[(mm.b_off + (k + ${q}u) * mm.b_sk) / 4u + col4];`)
    : // four columns, a vec4 along k each, regrouped into one vec4 of columns per depth
      lines(4, (t) => `    let bc${t} = ${v}_b[bcol${t} + (k >> 2u)];`) +
      "\n" +
      lines(4, (q) => {
        const c = "xyzw"[q];
        return `    let b${q} = vec4f(bc0.${c}, bc1.${c}, bc2.${c}, bc3.${c});`;
      });

  // --- multiply-adds: acc_i += sum over q of A[i, k+q] * b_q ---
  const fma = aAlongK
    ? lines(TM, (i) => {
        const s = `subgroupShuffle(ar${Math.floor(i / 8)}, base + ${i % 8}u)`;
        return `    { let x = ${s}; acc${i} += x.x * b0 + x.y * b1 + x.z * b2 + x.w * b3; }`;
      })
    : lines(TM / 4, (g) =>
        range(4)
          .map((q) => {
            const rows = range(4).map((t) => `acc${4 * g + t} += x.${"xyzw"[t]} * b${q};`).join(" ");
            return `    { let x = subgroupShuffle(ar${g >> 1}, base + ${q + 4 * (g & 1)}u); ${rows} }`;
          })
          .join("\n"),
      );

  // per-lane addressing set up once
  const setupA = aAlongK
    ? lines(TM / 8, (j) => `  let a_row${j} = (mm.a_off + min(r0 + lane + ${8 * j}u, mm.m - 1u) * mm.a_sm) / 4u;`)
    : lines(TM / 8, (j) => `  let rgrp${j} = min(r0 + 4u * (${2 * j}u + (lane >> 2u)), mm.m - 4u) / 4u;`);
  // the row whose values acc_i holds once loads are clamped (tn clamps groups of 4 rows)
  const storeRow = (i: number) => (aAlongK ? `min(r0 + ${i}u, mm.m - 1u)` : `(min(r0 + ${4 * Math.floor(i / 4)}u, mm.m - 4u) + ${i % 4}u)`);
  const setupB = bAlongN
    ? ""
    : lines(4, (t) => `  let bcol${t} = (mm.b_off + min(col4 * 4u + ${t}u, mm.n - 1u) * mm.b_sn) / 4u;`);

  return `
@group(0) @binding(0) var<storage, read> ${v}_a: array<vec4f>;
@group(0) @binding(1) var<storage, read> ${v}_b: array<vec4f>;
@group(0) @binding(2) var<storage, read> ${v}_bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> ${v}_c: array<vec4f>;

@compute @workgroup_size(${SUBGROUP_WG})
fn matmul_sg${TM}_${layout}(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32) {
  let lane = sid & 7u;
  let base = sid & ~7u;
  let team = li / 8u;
  let r0 = wid.y * ${TM}u;
  let col_group = (wid.x * ${SUBGROUP_WG / 8}u + team) * 8u + lane; // this lane's 4 columns: 4 * col_group ..
  let col4 = min(col_group, mm.n / 4u - 1u); // clamped for loads
${setupA}
${setupB}
${lines(TM, (i) => `  var acc${i} = vec4f(0.0);`)}
  let k_end = min(mm.k, (wid.z + 1u) * mm.k_slice);
  for (var k = wid.z * mm.k_slice; k < k_end; k += 4u) {
${loadA}
${loadB}
${fma}
  }
  var bias = vec4f(0.0);
  if (has(BIAS)) {
    let i = mm.bias_off + col4 * 4u;
    bias = vec4f(${v}_bias[i], ${v}_bias[i + 1u], ${v}_bias[i + 2u], ${v}_bias[i + 3u]);
  }
  // rows past m and column groups past n computed the same values as the last row and column
  // group (their loads were clamped): storing them there again needs no branch
  let ldc = mm.ldc / 4u;
  let c = (mm.c_off + wid.z * mm.c_slice) / 4u + col4;
${lines(TM, (i) => `  ${v}_c[c + ${storeRow(i)} * ldc] = finish4(acc${i}, bias);`)}
}
`;
}

/**
 * The WGSL source of matmul_sg{8,16,32}_{nn,nt,tn}, one module per entry point: each pipeline
 * then compiles only its own kernel's text (device start: one shared module took ~0.1 s longer).
 */
export const matmulSubgroupSources: Record<string, string> = Object.fromEntries(
  SUBGROUP_ROWS.flatMap((tm) =>
    (["nn", "nt", "tn"] as const).map((layout) => [
      `matmul_sg${tm}_${layout}`,
      `enable subgroups;
// generated by shaders/matmul-subgroup.ts

${sharedBlock(matmul, "shaders/matmul.wgsl")}
${entry(layout, tm)}`,
    ]),
  ),
);
