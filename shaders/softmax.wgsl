// PLACEHOLDER: not implemented yet
struct P { n: u32 }
@group(1) @binding(0) var<uniform> placeholder_p: P;
@group(0) @binding(0) var<storage, read> softmax_fwd_in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> softmax_fwd_out0: array<f32>;
@compute @workgroup_size(1) fn softmax_fwd() { softmax_fwd_out0[0] = f32(placeholder_p.n); }
@group(0) @binding(0) var<storage, read> softmax_xent_fwd_in0: array<f32>;
@group(0) @binding(1) var<storage, read> softmax_xent_fwd_in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> softmax_xent_fwd_out0: array<f32>;
@group(0) @binding(3) var<storage, read_write> softmax_xent_fwd_out1: array<f32>;
@compute @workgroup_size(1) fn softmax_xent_fwd() { softmax_xent_fwd_out0[0] = f32(placeholder_p.n); }
@group(0) @binding(0) var<storage, read> softmax_xent_bwd_in0: array<f32>;
@group(0) @binding(1) var<storage, read> softmax_xent_bwd_in1: array<f32>;
@group(0) @binding(2) var<storage, read> softmax_xent_bwd_in2: array<f32>;
@group(0) @binding(3) var<storage, read_write> softmax_xent_bwd_out0: array<f32>;
@compute @workgroup_size(1) fn softmax_xent_bwd() { softmax_xent_bwd_out0[0] = f32(placeholder_p.n); }
@group(0) @binding(0) var<storage, read> accuracy_in0: array<f32>;
@group(0) @binding(1) var<storage, read> accuracy_in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> accuracy_out0: array<f32>;
@compute @workgroup_size(1) fn accuracy() { accuracy_out0[0] = f32(placeholder_p.n); }
