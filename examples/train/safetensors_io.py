"""Writes safetensors files (no `safetensors` package needed): u64 LE header length, JSON header, raw bytes."""
import json
import struct

import numpy as np

DTYPES = {np.dtype('float32'): 'F32', np.dtype('float16'): 'F16', np.dtype('int32'): 'I32'}


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        a = np.ascontiguousarray(array)
        if a.dtype not in DTYPES:
            raise TypeError(f'{name}: dtype {a.dtype} is not one of {list(DTYPES)}')
        raw = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': DTYPES[a.dtype], 'shape': list(a.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
