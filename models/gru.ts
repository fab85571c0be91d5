// A GRU sequence classifier (N:1): read 32 steps, classify from the last hidden state.
import { defineModel, nn, type Tensor } from 'simdflow';

class GRUClassifier extends nn.Module {
  gru = new nn.GRU(64, 128, { batchFirst: true });
  head = new nn.Linear(128, 5);
  forward(x: Tensor): Tensor {
    const [, h] = this.gru.call(x);
    return this.head.call(h.select(0, -1)).softmax(-1);
  }
}

export default defineModel({
  name: 'gru',
  description: 'GRU(64, 128) over 32 steps, batch 4, softmax over 5 classes from the last state',
  module: new GRUClassifier(),
  inputs: { x: [4, 32, 64] },
});
