// Memory layouts shared by the planner and the kernels (see assembly/gemm.ts).

import { byteSize, type TensorType } from './types.ts';

/** GEMM weight panels are NR = 8 columns wide: 8 bias floats, then K rows of 8 floats. */
export const GEMM_NR = 8;
export const packedGemmBytes = (k: number, n: number): number => Math.ceil(n / GEMM_NR) * (GEMM_NR + k * GEMM_NR) * 4;

/** Everything in wasm memory starts on a 16-byte boundary (one v128). */
export const ALIGN = 16;
export const align = (x: number, a = ALIGN): number => Math.ceil(x / a) * a;
export const alignedBytes = (t: TensorType): number => align(Math.max(byteSize(t), 1));
