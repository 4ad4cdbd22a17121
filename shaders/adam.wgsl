// PLACEHOLDER: not implemented yet
struct P { n: u32 }
@group(1) @binding(0) var<uniform> placeholder_p: P;
@group(0) @binding(0) var<storage, read> adam_in0: array<f32>;
@group(0) @binding(2) var<storage, read_write> adam_out0: array<f32>;
@compute @workgroup_size(1) fn adam() { adam_out0[0] = f32(placeholder_p.n) + adam_in0[0]; }
@compute @workgroup_size(1) fn sgd() { adam_out0[0] = f32(placeholder_p.n) + adam_in0[0]; }
@group(0) @binding(1) var<storage, read_write> guard_out0: array<f32>;
@compute @workgroup_size(1) fn guard() { guard_out0[0] = f32(placeholder_p.n) + adam_in0[0]; }
