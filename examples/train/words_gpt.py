"""Trains the demo's character-level GPT on the wamerican word list (/usr/share/dict/words).

Tokens: 0 is the word boundary '.', 1..26 are 'a'..'z'. Each training sequence is one word
framed by boundaries ('.cat.'); the model learns to continue from '.' and to end a word with '.'.
The architecture is simdflow's `GPT` (compiler/dsl/zoo.ts) with the same state_dict names:
token + learned position embeddings, pre-LN GELU TransformerEncoderLayers with a causal mask,
final LayerNorm, a head without bias.

Writes examples/web/models/words.safetensors (F16 weights), words.json (vocabulary, config,
validation loss) and tests/fixtures/demo/words_io.safetensors (PyTorch outputs the Node test
compares the compiled model against). Run with Debian's Python and python3-torch: /usr/bin/python3 examples/train/words_gpt.py
(about 20 minutes on this shared 2-core machine under heavy load)
"""
import json
import math
import os
import random
import re
import time

import numpy as np
import torch
from torch import nn

from safetensors_io import write_safetensors

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
OUT = os.path.join(ROOT, 'examples', 'web', 'models')
FIXTURES = os.path.join(ROOT, 'tests', 'fixtures', 'demo')
CONFIG = dict(vocab=27, context=32, d_model=64, nhead=4, layers=2, dim_feedforward=256)
EPOCHS, BATCH, LR = 1, 128, 2e-3
BOUNDARY = 0


class GPT(nn.Module):
    def __init__(self, vocab, context, d_model, nhead, layers, dim_feedforward):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab, d_model)
        self.pos_emb = nn.Embedding(context, d_model)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0, activation='gelu', batch_first=True, norm_first=True)
            for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab, bias=False)

    def forward(self, tokens):
        T = tokens.shape[1]
        x = self.tok_emb(tokens) + self.pos_emb(torch.arange(T))
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        for block in self.blocks:
            x = block(x, src_mask=causal)
        return self.head(self.ln_f(x))


def encode(word):
    return [BOUNDARY] + [ord(c) - 96 for c in word] + [BOUNDARY]


def batches(words, shuffle):
    # Words of similar length share a batch, so little of each batch is padding.
    order = sorted(words, key=len)
    groups = [order[i:i + BATCH] for i in range(0, len(order), BATCH)]
    if shuffle:
        random.shuffle(groups)
    for g in groups:
        T = max(len(w) for w in g) + 1
        x = torch.zeros(len(g), T, dtype=torch.long)
        y = torch.full((len(g), T), -100, dtype=torch.long)
        for i, w in enumerate(g):
            s = encode(w)
            x[i, :len(s) - 1] = torch.tensor(s[:-1])
            y[i, :len(s) - 1] = torch.tensor(s[1:])
        yield x, y


def mean_loss(model, words):
    total, count = 0.0, 0
    with torch.no_grad():
        for x, y in batches(words, shuffle=False):
            total += nn.functional.cross_entropy(model(x).reshape(-1, CONFIG['vocab']), y.reshape(-1), ignore_index=-100, reduction='sum').item()
            count += (y != -100).sum().item()
    return total / count


def greedy(model, prompt, steps):
    seq = list(prompt)
    with torch.no_grad():
        for _ in range(steps):
            logits = model(torch.tensor([seq]))[0, -1]
            top = torch.topk(logits, 2).values
            assert top[0] - top[1] > 1e-3, f'greedy step after {seq} is a near tie ({top.tolist()})'
            seq.append(int(logits.argmax()))
    return seq


def sample_word(model, gen, temperature=1.0):
    seq = [BOUNDARY]
    with torch.no_grad():
        while len(seq) < CONFIG['context']:
            p = torch.softmax(model(torch.tensor([seq]))[0, -1] / temperature, -1)
            t = int(torch.multinomial(p, 1, generator=gen))
            if t == BOUNDARY:
                break
            seq.append(t)
    return ''.join(chr(96 + t) for t in seq[1:])


def main():
    torch.manual_seed(0)
    random.seed(0)
    torch.set_num_threads(2)
    words = sorted({w for w in open('/usr/share/dict/words').read().split() if re.fullmatch('[a-z]+', w) and len(w) <= CONFIG['context'] - 2})
    random.shuffle(words)
    val, train = words[:2000], words[2000:]
    model = GPT(**CONFIG)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    steps = EPOCHS * math.ceil(len(train) / BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=steps, pct_start=0.05)
    params = sum(p.numel() for p in model.parameters())
    print(f'{len(train)} training words, {len(val)} validation words, {params} parameters', flush=True)
    t0 = time.time()
    for epoch in range(EPOCHS):
        for step, (x, y) in enumerate(batches(train, shuffle=True)):
            loss = nn.functional.cross_entropy(model(x).reshape(-1, CONFIG['vocab']), y.reshape(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            if step % 50 == 0:
                print(f'  epoch {epoch + 1} step {step}: loss {loss.item():.3f} ({time.time() - t0:.0f} s)', flush=True)
        print(f'epoch {epoch + 1}: train loss {loss.item():.3f}, validation loss {mean_loss(model, val):.3f} nats/char ({time.time() - t0:.0f} s)', flush=True)

    # Ship F16 weights (half the bytes); every output below is computed with exactly those weights.
    state = {k: v.detach().half() for k, v in model.state_dict().items()}
    model.load_state_dict({k: v.float() for k, v in state.items()})
    val_loss = mean_loss(model, val)
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(FIXTURES, exist_ok=True)
    write_safetensors(os.path.join(OUT, 'words.safetensors'), {k: v.numpy() for k, v in state.items()})

    gen = torch.Generator().manual_seed(1)
    samples = [sample_word(model, gen) for _ in range(200)]
    known = set(words)
    novel = [w for w in samples if w and w not in known]
    print(f'validation loss with f16 weights {val_loss:.3f}; {len(novel)}/200 sampled words are not in the list, e.g. {novel[:12]}')
    with open(os.path.join(OUT, 'words.json'), 'w') as f:
        json.dump({
            'vocab': ['.'] + [chr(97 + i) for i in range(26)], 'boundary': BOUNDARY, 'config': CONFIG,
            'trainingWords': len(train), 'validationLoss': round(val_loss, 4), 'epochs': EPOCHS,
            'novelFraction': round(len(novel) / 200, 3),
        }, f, indent=2)
        f.write('\n')

    # Fixtures. `text`: one full 32-token sequence (several words) for run(); `prompt_*`: greedy
    # continuations, checked for a margin between the two best logits at every step.
    text = ([BOUNDARY] + [t for w in ['stream', 'token', 'cache', 'wasm', 'simd'] for t in encode(w)[1:]])[:CONFIG['context']]
    text += [BOUNDARY] * (CONFIG['context'] - len(text))
    with torch.no_grad():
        model.train()  # dropout is 0; training mode keeps PyTorch off its fused inference path
        logits = model(torch.tensor([text]))[0]
    io = {'input.tokens': np.array([text], dtype=np.int32), 'output.logits': logits.numpy()[None]}
    for i, prompt in enumerate([[BOUNDARY], [BOUNDARY, 19], [BOUNDARY, 16, 18, 15]]):
        g = greedy(model, prompt, 12)
        io[f'prompt{i}'] = np.array(prompt, dtype=np.int32)
        io[f'greedy{i}'] = np.array(g, dtype=np.int32)
        print(f'greedy from {prompt}: {"".join(".abcdefghijklmnopqrstuvwxyz"[t] for t in g)}')
    write_safetensors(os.path.join(FIXTURES, 'words_io.safetensors'), io)
    print(f'wrote {OUT}/words.safetensors ({os.path.getsize(os.path.join(OUT, "words.safetensors"))} bytes) in {time.time() - t0:.0f} s')


if __name__ == '__main__':
    main()
