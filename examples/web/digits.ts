// Turning a drawing into the digits data set's format and classifying it with the CNN
// (models/digits.model.ts). The data set's 8×8 images are 32×32 bitmaps counted in 4×4
// blocks (0..16), the digit filling the bitmap's height; a drawing is cropped to its ink,
// scaled so its longer side fills 32 pixels, centred, thresholded and counted the same way.
import type { Model } from 'simdflow/runtime';

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
  const side = Math.max(x1 - x0 + 1, y1 - y0 + 1), scale = side / 32;
  // Centre the ink's box in a side × side square, then sample it at 32 × 32 cell centres.
  const cx = (x0 + x1 + 1) / 2 - side / 2, cy = (y0 + y1 + 1) / 2 - side / 2;
  for (let by = 0; by < 32; by++) {
    for (let bx = 0; bx < 32; bx++) {
      const sx = Math.floor(cx + (bx + 0.5) * scale), sy = Math.floor(cy + (by + 0.5) * scale);
      if (sx >= 0 && sx < width && sy >= 0 && sy < height && ink[sy * width + sx]! >= 128) out[(by >> 2) * 8 + (bx >> 2)] += 1;
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
