// Scratch of the fused attention kernel in assembly/attention.ts (its signature and operand
// layout are in that file's banner; kernels.ts reads the signature and emit.ts calls it by
// parameter name): attentionScratchBytes(Lq, Lk) bytes, 16-byte aligned.

import { kernelConst } from './kernels.ts';

const round4 = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * Bytes of scratch for one call (a multiple of 16). Lq ≥ 4: S^T [round4(Lk)][8] + Q^T [128][8] +
 * 8 floats; Lq < 4 (rows one at a time): round4(Lk) floats. Same formula as
 * attention_scratch_floats in assembly/attention.ts.
 */
export function attentionScratchBytes(Lq: number, Lk: number): number {
  if (!Number.isInteger(Lq) || !Number.isInteger(Lk) || Lq < 1 || Lk < 1) {
    throw new Error(`attentionScratchBytes: expected integer Lq ≥ 1 and Lk ≥ 1, found Lq=${Lq}, Lk=${Lk}`);
  }
  // The block sizes are the kernel's own constants, read from its source.
  const R = kernelConst('ATTENTION_ROW_BLOCK'), D = kernelConst('ATTENTION_QT_DEPTH');
  return 4 * (Lq >= 4 ? R * round4(Lk) + R * D + R : round4(Lk));
}
