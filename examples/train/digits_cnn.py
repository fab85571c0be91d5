"""Trains the demo's digit classifier: a small CNN on scikit-learn's digits (8×8 images, 0..16).

The data set's images are 32×32 bitmaps counted in 4×4 blocks, so each pixel is 0..16; the
page turns a drawing into the same scale. The model divides by 16 itself, so it takes the
data set's pixels as they are. Training images are shifted by up to one pixel (drawings are
rarely centred like the scans). 80/20 split with a fixed seed; the test accuracy is reported.

Writes examples/web/models/digits.safetensors, digits.json (accuracy, split) and
tests/fixtures/demo/digits_io.safetensors (the test images, labels and PyTorch's outputs).
Run with Debian's Python, python3-torch and python3-sklearn: /usr/bin/python3 examples/train/digits_cnn.py
(6 minutes on this shared 2-core machine under heavy load)
"""
import json
import os
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from safetensors_io import write_safetensors

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
OUT = os.path.join(ROOT, 'examples', 'web', 'models')
FIXTURES = os.path.join(ROOT, 'tests', 'fixtures', 'demo')
EPOCHS, BATCH, LR = 40, 64, 2e-3


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.classifier(self.features(x / 16))


def shift(x, gen):
    # Each image moves by −1, 0 or +1 pixel in each direction, zero-filled.
    out = torch.zeros_like(x)
    dy, dx = torch.randint(-1, 2, (2, x.shape[0]), generator=gen)
    for i in range(x.shape[0]):
        a, b = int(dy[i]), int(dx[i])
        out[i, :, max(a, 0):8 + min(a, 0), max(b, 0):8 + min(b, 0)] = x[i, :, max(-a, 0):8 - max(a, 0), max(-b, 0):8 - max(b, 0)]
    return out


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(0)
    d = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(d.images.astype(np.float32), d.target, test_size=0.2, random_state=0, stratify=d.target)
    x_train, x_test = torch.tensor(x_train)[:, None], torch.tensor(x_test)[:, None]
    y_train, y_test = torch.tensor(y_train), torch.tensor(y_test)
    model = DigitsCNN()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=1e-3)
    t0 = time.time()
    for epoch in range(EPOCHS):
        perm = torch.randperm(len(x_train), generator=gen)
        for i in range(0, len(perm), BATCH):
            idx = perm[i:i + BATCH]
            loss = nn.functional.cross_entropy(model(shift(x_train[idx], gen)), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        logits = model(x_test)
    pred = logits.argmax(-1)
    accuracy = (pred == y_test).float().mean().item()
    print(f'{len(x_train)} training images, {len(x_test)} test images; test accuracy {accuracy:.4f} ({int((pred == y_test).sum())}/{len(y_test)}) in {time.time() - t0:.0f} s')
    top = torch.topk(logits, 2).values
    assert (top[:, 0] - top[:, 1]).min() > 1e-3, 'a test image is a near tie between two classes'

    os.makedirs(OUT, exist_ok=True)
    os.makedirs(FIXTURES, exist_ok=True)
    write_safetensors(os.path.join(OUT, 'digits.safetensors'), {k: v.numpy() for k, v in model.state_dict().items()})
    with open(os.path.join(OUT, 'digits.json'), 'w') as f:
        json.dump({'classes': list(range(10)), 'pixelScale': [0, 16], 'trainImages': len(x_train), 'testImages': len(x_test),
                   'testAccuracy': round(accuracy, 4), 'split': 'sklearn train_test_split(test_size=0.2, random_state=0, stratify=target)',
                   # One test image per class, for the page's "test image" button.
                   'samples': [x_test[int((y_test == c).nonzero()[0])][0].int().flatten().tolist() for c in range(10)]}, f)
        f.write('\n')
    write_safetensors(os.path.join(FIXTURES, 'digits_io.safetensors'), {
        'images': x_test.numpy(), 'labels': y_test.numpy().astype(np.int32),
        'logits': logits.numpy(), 'probs': torch.softmax(logits, -1).numpy(), 'predicted': pred.numpy().astype(np.int32),
    })


if __name__ == '__main__':
    main()
