// An MNIST-sized multilayer perceptron: 784 → 256 → 128 → 10, ReLU, softmax output.
import { defineModel, nn } from 'simdflow';

export default defineModel({
  name: 'mlp',
  description: 'MLP 784-256-128-10 with ReLU and a softmax head, batch 1',
  module: new nn.Sequential(
    new nn.Linear(784, 256), new nn.ReLU(),
    new nn.Linear(256, 128), new nn.ReLU(),
    new nn.Linear(128, 10), new nn.Softmax(-1),
  ),
  inputs: { x: [1, 784] },
});
