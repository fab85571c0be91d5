// Turning a drawing into the digits data set's format and classifying it with the CNN
// (models/digits.model.ts). The data set's 8×8 images are 32×32 bitmaps counted in 4×4 blocks
// (0..16); in every image the digit fills the height, and its width stays within about 6 of
// the 8 columns. So a drawing is cropped to its ink, stretched to 32 pixels high (and at most
// 24 wide, narrowing wide drawings), centred, sampled, thresholded and counted the same way.
import type { Model } from 'simdflow/runtime';

const MAX_WIDTH = 24;

/** ink: one value per pixel (0 = paper, 255 = full ink), row-major width × height. Returns 64 pixels 0..16. */
export function toDigitPixels(ink: ArrayLike<number>, width: number, height: number): Float32Array {
  if (ink.length !== width * height) throw new Error(`digits: expected ${width}×${height} = ${width * height} ink values, got ${ink.length}`);
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x]! >= 128) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    }
  }
  const out = new Float32Array(64);
  if (x1 < 0) return out;
  const w = x1 - x0 + 1, h = y1 - y0 + 1;
  // Source pixels per bitmap pixel: the height fills the 32 rows; the width keeps the aspect unless it would exceed MAX_WIDTH.
  const sy = h / 32, sx = Math.max(sy, w / MAX_WIDTH);
  // The ink's box centred in the 32 × 32 bitmap, sampled at the bitmap's pixel centres.
  const cx = (x0 + x1 + 1) / 2 - 16 * sx, cy = (y0 + y1 + 1) / 2 - 16 * sy;
  for (let by = 0; by < 32; by++) {
    for (let bx = 0; bx < 32; bx++) {
      const x = Math.floor(cx + (bx + 0.5) * sx), y = Math.floor(cy + (by + 0.5) * sy);
      if (x >= 0 && x < width && y >= 0 && y < height && ink[y * width + x]! >= 128) out[(by >> 2) * 8 + (bx >> 2)] += 1;
    }
  }
  return out;
}

export interface Classification { probs: Float32Array; predicted: number; ms: number }

export function classifyDigit(model: Model, pixels: Float32Array): Classification {
  const t0 = performance.now();
  const { probs } = model.run({ x: pixels }) as { probs: Float32Array };
  const ms = performance.now() - t0;
  let predicted = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[predicted]!) predicted = i;
  return { probs, predicted, ms };
}
