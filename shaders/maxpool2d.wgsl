// PLACEHOLDER: not implemented yet
struct P { n: u32 }
@group(1) @binding(0) var<uniform> placeholder_p: P;
@group(0) @binding(0) var<storage, read> maxpool2d_fwd_in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> maxpool2d_fwd_out0: array<f32>;
@group(0) @binding(2) var<storage, read_write> maxpool2d_fwd_out1: array<f32>;
@compute @workgroup_size(1) fn maxpool2d_fwd() { maxpool2d_fwd_out0[0] = f32(placeholder_p.n); }
@group(0) @binding(0) var<storage, read> maxpool2d_bwd_in0: array<f32>;
@group(0) @binding(1) var<storage, read> maxpool2d_bwd_in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> maxpool2d_bwd_out0: array<f32>;
@compute @workgroup_size(1) fn maxpool2d_bwd() { maxpool2d_bwd_out0[0] = f32(placeholder_p.n); }
