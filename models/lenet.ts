// LeNet-5 for 28×28 grey images (NCHW), as in the PyTorch tutorials.
import { defineModel, nn } from 'simdflow';

export default defineModel({
  name: 'lenet',
  description: 'LeNet-5: two conv/ReLU/max-pool stages and three linear layers, batch 1',
  module: new nn.Sequential(
    new nn.Conv2d(1, 6, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(6, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(16 * 5 * 5, 120), new nn.ReLU(),
    new nn.Linear(120, 84), new nn.ReLU(),
    new nn.Linear(84, 10),
  ),
  inputs: { x: [1, 1, 28, 28] },
});
