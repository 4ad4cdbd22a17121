// Small helpers for the files that generate WGSL text (unrolled kernels).

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** f(0) .. f(n - 1), one per line. */
export const lines = (n: number, f: (i: number) => string): string => range(n).map(f).join("\n");

/**
 * The block of a .wgsl file between its "// ---- shared:" and "// ---- end shared ----" markers
 * (Params struct, binding, helpers), so generated kernels share one definition with it.
 */
export function sharedBlock(source: string, file: string): string {
  const begin = source.indexOf("// ---- shared:");
  const end = source.indexOf("// ---- end shared ----");
  if (begin < 0 || end < begin) throw new Error(`gpu-cnn: ${file} lost its shared-block markers`);
  return source.slice(begin, end);
}

/**
 * WGSL `fn name(a: u32, b: u32) -> u32`: a / b for a < 2^22 as one f32 division for all lanes,
 * where llvmpipe divides a u32 one lane at a time (the callers check the bound).
 */
export const f32Division = (name: string): string => `fn ${name}(a: u32, b: u32) -> u32 { return u32((f32(a) + 0.5) / f32(b)); }`;

/**
 * WGSL `fn name(line, ix, row_ok) -> f32`: the f32 binding `x` at column ix of the input row that
 * starts at `line` (channel included), 0 in the padding (conv2d's Params `p` in scope).
 */
export const xAtFunction = (name: string, x: string): string => `fn ${name}(line: i32, ix: i32, row_ok: bool) -> f32 {
  let inside = row_ok && ix >= 0 && ix < i32(p.in_w);
  return select(0.0, ${x}[select(0, line + ix * i32(p.in_c), inside)], inside);
}`;
