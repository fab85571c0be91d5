# Regenerates tests/fixtures/onnx/<name>/: small PyTorch models exported with torch.onnx.export,
# laid out as ONNX's backend node tests (model.onnx, test_data_set_0/input_N.pb, output_N.pb with
# PyTorch's outputs), so `npm run conformance:onnx -- tests/fixtures/onnx` runs them too.
# Usage: /usr/bin/python3 scripts/onnx-fixtures.py   (needs torch and onnx; CI never runs it)
import os, torch, torch.nn as nn
from onnx import numpy_helper

OUT = os.path.join(os.path.dirname(__file__), '..', 'tests', 'fixtures', 'onnx')
torch.manual_seed(0)

class LeNetish(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(4, 6, 3, stride=2), nn.BatchNorm2d(6), nn.Sigmoid(), nn.AvgPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(6 * 1 * 1, 5), nn.LogSoftmax(-1))
    def forward(self, x): return self.head(self.features(x))

def export(name, model, inputs, input_names, output_names, opset=13, dynamic_axes=None):
    model.eval()
    d = os.path.join(OUT, name); os.makedirs(os.path.join(d, 'test_data_set_0'), exist_ok=True)
    torch.onnx.export(model, tuple(inputs), os.path.join(d, 'model.onnx'), input_names=input_names,
                      output_names=output_names, opset_version=opset, dynamic_axes=dynamic_axes)
    with torch.no_grad(): outs = model(*inputs)
    if isinstance(outs, torch.Tensor): outs = (outs,)
    for i, t in enumerate(inputs):
        open(os.path.join(d, 'test_data_set_0', f'input_{i}.pb'), 'wb').write(numpy_helper.from_array(t.numpy(), input_names[i]).SerializeToString())
    for i, t in enumerate(outs):
        open(os.path.join(d, 'test_data_set_0', f'output_{i}.pb'), 'wb').write(numpy_helper.from_array(t.detach().numpy(), output_names[i]).SerializeToString())

export('mlp', nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 12), nn.Tanh(), nn.Linear(12, 4), nn.Softmax(-1)),
       [torch.randn(3, 8)], ['x'], ['y'])
bn = LeNetish(); bn.features[4].running_mean.uniform_(-1, 1); bn.features[4].running_var.uniform_(0.5, 2)
export('cnn', bn, [torch.randn(2, 1, 12, 12)], ['x'], ['y'])
export('mlp_dynamic_batch', nn.Sequential(nn.Linear(8, 6), nn.GELU(), nn.Linear(6, 3)), [torch.randn(2, 8)], ['x'], ['y'],
       dynamic_axes={'x': {0: 'batch'}, 'y': {0: 'batch'}})
