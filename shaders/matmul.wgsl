// PLACEHOLDER: not implemented yet
struct P { n: u32 }
@group(1) @binding(0) var<uniform> placeholder_p: P;
@group(0) @binding(0) var<storage, read> matmul_nn_in0: array<f32>;
@group(0) @binding(1) var<storage, read> matmul_nn_in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> matmul_nn_out0: array<f32>;
@compute @workgroup_size(1) fn matmul_nn() { matmul_nn_out0[0] = f32(placeholder_p.n); }
@group(0) @binding(0) var<storage, read> matmul_nt_in0: array<f32>;
@group(0) @binding(1) var<storage, read> matmul_nt_in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> matmul_nt_out0: array<f32>;
@compute @workgroup_size(1) fn matmul_nt() { matmul_nt_out0[0] = f32(placeholder_p.n); }
@group(0) @binding(0) var<storage, read> matmul_tn_in0: array<f32>;
@group(0) @binding(1) var<storage, read> matmul_tn_in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> matmul_tn_out0: array<f32>;
@compute @workgroup_size(1) fn matmul_tn() { matmul_tn_out0[0] = f32(placeholder_p.n); }
