// PLACEHOLDER: not implemented yet
struct P { n: u32 }
@group(1) @binding(0) var<uniform> placeholder_p: P;
@group(0) @binding(0) var<storage, read> conv2d_fwd_in0: array<f32>;
@group(0) @binding(1) var<storage, read> conv2d_fwd_in1: array<f32>;
@group(0) @binding(2) var<storage, read> conv2d_fwd_in2: array<f32>;
@group(0) @binding(3) var<storage, read_write> conv2d_fwd_out0: array<f32>;
@compute @workgroup_size(1) fn conv2d_fwd() { conv2d_fwd_out0[0] = f32(placeholder_p.n); }
@group(0) @binding(0) var<storage, read> conv2d_bwd_input_in0: array<f32>;
@group(0) @binding(1) var<storage, read> conv2d_bwd_input_in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> conv2d_bwd_input_out0: array<f32>;
@compute @workgroup_size(1) fn conv2d_bwd_input() { conv2d_bwd_input_out0[0] = f32(placeholder_p.n); }
@group(0) @binding(0) var<storage, read> conv2d_bwd_filter_in0: array<f32>;
@group(0) @binding(1) var<storage, read> conv2d_bwd_filter_in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> conv2d_bwd_filter_out0: array<f32>;
@compute @workgroup_size(1) fn conv2d_bwd_filter() { conv2d_bwd_filter_out0[0] = f32(placeholder_p.n); }
