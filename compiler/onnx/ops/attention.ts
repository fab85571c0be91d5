// ONNX Attention (opset 23): placeholder until its translation lands.
import type { Ctx, Val } from '../ctx.ts';
export const ATTENTION: Record<string, (c: Ctx) => Val | (Val | undefined)[]> = {};
