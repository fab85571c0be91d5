// The demo's digit classifier: a small CNN trained on scikit-learn's 8×8 digits by
// examples/train/digits_cnn.py. Input: one image, pixels 0..16 as in the data set.
import { defineModel, Module, nn, type Tensor } from 'simdflow';

class DigitsCNN extends Module {
  features = new nn.Sequential(
    new nn.Conv2d(1, 16, 3, { padding: 1 }), new nn.ReLU(),
    new nn.Conv2d(16, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
  );
  classifier = new nn.Sequential(new nn.Flatten(), new nn.Linear(32 * 4 * 4, 64), new nn.ReLU(), new nn.Linear(64, 10));
  forward(x: Tensor): Tensor { return this.classifier.call(this.features.call(x.div(16))); }
}

export default defineModel({
  name: 'digits',
  description: 'CNN for 8×8 digits (0..16 pixels): two 3×3 convs, max-pool, two linear layers; logits and probabilities',
  module: new DigitsCNN(),
  inputs: { x: [1, 1, 8, 8] },
  forward: (m, i) => {
    const logits = (m as DigitsCNN).call(i.x!);
    return { logits, probs: logits.softmax(-1) };
  },
  weights: './digits.safetensors',
});
