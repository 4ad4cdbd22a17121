// PLACEHOLDER: not implemented yet
struct P { n: u32 }
@group(1) @binding(0) var<uniform> placeholder_p: P;
@group(0) @binding(0) var<storage, read> adam_in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> adam_out0: array<f32>;
@group(0) @binding(2) var<storage, read_write> adam_out1: array<f32>;
@group(0) @binding(3) var<storage, read_write> adam_out2: array<f32>;
@compute @workgroup_size(1) fn adam() { adam_out0[0] = f32(placeholder_p.n); }
@group(0) @binding(0) var<storage, read> sgd_in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> sgd_out0: array<f32>;
@group(0) @binding(2) var<storage, read_write> sgd_out1: array<f32>;
@compute @workgroup_size(1) fn sgd() { sgd_out0[0] = f32(placeholder_p.n); }
