// ABI of the fused attention kernel in assembly/attention.ts, for the codegen that emits its calls
// and plans its scratch:
//
//   attention_f32(q, k, v, o, mask, scratch, B, H, Lq, Lk, d, dv,
//                 ldq, ldk, ldv, ldo, bsq, bsk, bsv, bso, mbs, mhs, mrs,
//                 scale, causal, kvLen, qOffset)
// Pointers are byte addresses; q/k/v/o strides (ld*, row; bs*, batch) in elements, heads interleaved
// in the last dimension (head h of a q row = the d floats from element h·d; v/o rows dv per head).
// mask: u8, 1 = not attended, 0 pointer = none; byte strides mbs/mhs/mrs (0 broadcasts), key stride 1.
// Keys j < kvLen (≤ Lk) exist; causal masks j > qOffset + i. Without a cache: kvLen = Lk, qOffset = 0.
// scratch: attentionScratchBytes(Lq, Lk) bytes, 16-byte aligned, contents irrelevant on entry.

/** Query rows the kernel processes together (the lanes of its transposed score block). */
export const ATTENTION_ROW_BLOCK = 8;
/** Depth of the transposed-Q chunk the kernel keeps in scratch. */
const QT_DEPTH = 128;

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
  const R = ATTENTION_ROW_BLOCK;
  return 4 * (Lq >= 4 ? R * round4(Lk) + R * QT_DEPTH + R : round4(Lk));
}
