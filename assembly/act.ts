// Activation codes shared by the codegen and every kernel with a fused epilogue
// (gemm_f32, conv2d_f32). The codegen passes one of these as the `act: i32` argument.
//   ACT_NONE     identity
//   ACT_RELU     max(x, 0); NaN stays NaN (like torch.relu)
//   ACT_SIGMOID  1 / (1 + e^-x)
//   ACT_TANH     tanh(x)
//   ACT_GELU     exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)) — not the tanh approximation
export const ACT_NONE: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_SIGMOID: i32 = 2;
export const ACT_TANH: i32 = 3;
export const ACT_GELU: i32 = 4;
