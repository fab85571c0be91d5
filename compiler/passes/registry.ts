// Every pass, in the order the pipeline runs them.

import { constantFolding } from './constant-folding.ts';
import { cse } from './cse.ts';
import { attentionLowering } from './attention-lowering.ts';
import { attentionPacking } from './attention-packing.ts';
import { attentionRecognition } from './attention-recognition.ts';
import { geluRecognition } from './gelu-recognition.ts';
import { layernormRecognition } from './layernorm-recognition.ts';
import { transposeSinking } from './transpose-sinking.ts';
import { viewSimplification } from './view-simplification.ts';
import { residualFusion } from './residual-fusion.ts';
import { dce } from './dce.ts';
import { elementwiseFusion } from './elementwise-fusion.ts';
import { epilogueFusion } from './epilogue-fusion.ts';
import { memoryPlanning } from './memory-planning.ts';
import type { Pass } from './pass.ts';
import { shapeInference } from './shape-inference.ts';

export const PASSES: readonly Pass[] = [
  shapeInference,
  // imported graphs: fold shape subgraphs, then recognise the decomposed ops the DSL emits whole
  constantFolding,
  layernormRecognition,
  geluRecognition,
  attentionRecognition,
  transposeSinking,
  viewSimplification,
  attentionPacking,
  attentionLowering,
  constantFolding,
  dce,
  cse,
  epilogueFusion,
  residualFusion,
  elementwiseFusion,
  dce,
  memoryPlanning,
];

export const PASS_NAMES = [...new Set(PASSES.map((p) => p.name))];
