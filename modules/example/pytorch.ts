/**
 * A tiny PyTorch model project: a two-layer MLP's weights in safetensors (written here, no
 * download), its architecture, training script, dataset, cards and report: a MOF Class III project.
 */
import { requireEmptyFolder, writeProjectFiles } from './files.js';
import { APACHE_2_0 } from './licence.js';

/** The MLP's shapes: 4 inputs, 8 hidden units, 2 classes. */
const TENSORS: Array<[string, number[]]> = [
  ['fc1.weight', [8, 4]],
  ['fc1.bias', [8]],
  ['fc2.weight', [2, 8]],
  ['fc2.bias', [2]],
];

/** A safetensors file of F32 tensors with deterministic values (the same bytes on every machine). */
export function tinySafetensors(): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, shape] of TENSORS) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // The data starts 8-byte aligned, as the reference writer pads it.
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  for (let i = 0; i < offset / 4; i++) view.setFloat32(8 + json.length + i * 4, Math.sin(i + 1) / 4, true);
  return out;
}

const MODEL_PY = `"""TinyMLP: the architecture of model/model.safetensors (4 features in, 2 classes out)."""
import torch
from torch import nn


class TinyMLP(nn.Module):
    def __init__(self, features: int = 4, hidden: int = 8, classes: int = 2):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))
`;

const TRAIN_PY = `"""Train TinyMLP on data/train.csv and write model/model.safetensors. Uses the GPU when there is one."""
import csv
import os

import torch
from safetensors.torch import save_file

from model import TinyMLP

data_dir = os.environ.get("DATA_DIR", "data")
device = "cuda" if torch.cuda.is_available() else "cpu"
rows = list(csv.reader(open(os.path.join(data_dir, "train.csv"))))[1:]
x = torch.tensor([[float(v) for v in r[:4]] for r in rows], device=device)
y = torch.tensor([int(r[4]) for r in rows], device=device)
model = TinyMLP().to(device)
optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
for epoch in range(int(os.environ.get("EPOCHS", "200"))):
    optimiser.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimiser.step()
print(f"device={device} loss={loss.item():.4f}")
os.makedirs("model", exist_ok=True)
save_file({k: v.detach().cpu() for k, v in model.state_dict().items()}, "model/model.safetensors")
`;

const TRAIN_CSV = `f1,f2,f3,f4,label
0.1,0.2,0.1,0.0,0
0.0,0.1,0.2,0.1,0
0.2,0.0,0.1,0.2,0
0.9,0.8,0.7,0.9,1
0.8,0.9,1.0,0.8,1
1.0,0.7,0.9,0.9,1
`;

const MODEL_CARD = `---
license: apache-2.0
library_name: pytorch
pipeline_tag: tabular-classification
tags:
  - modelship-example
datasets:
  - tiny-tabular
model-index:
  - name: tiny-mlp
    results:
      - task: {type: tabular-classification}
        dataset: {name: tiny-tabular, type: tiny-tabular}
        metrics:
          - {type: accuracy, value: 1.0}
---

# tiny-mlp

A two-layer perceptron (4 features, 8 hidden units, 2 classes) in PyTorch, stored as safetensors.
\`train.py\` trains it on \`data/train.csv\`; \`model.py\` holds the architecture.

## Uses

Trying the modelship pipeline on a PyTorch project. It separates low from high feature vectors and
nothing else.

## Limitations

Six training rows: it has learnt nothing beyond them.
`;

const DATA_CARD = `# Data card: tiny-tabular

Six rows of four features in [0, 1] with a binary label (\`data/train.csv\`), written by hand: low
values are class 0, high values class 1. Released with the model under Apache-2.0.
`;

const TECHNICAL_REPORT = `# Technical report: tiny-mlp

Linear(4, 8), ReLU, Linear(8, 2), trained with Adam (learning rate 0.05, 200 epochs) on cross
entropy. The shipped weights are deterministic placeholders until \`python train.py\` is run.
`;

export interface PytorchProject {
  dir: string;
  files: string[];
}

export async function writePytorchExample(dir: string): Promise<PytorchProject> {
  await requireEmptyFolder(dir, 'the project');
  const files: Record<string, string | Uint8Array> = {
    'model/model.safetensors': tinySafetensors(),
    'config.json': JSON.stringify({ architectures: ['TinyMLP'], model_type: 'tiny-mlp', in_features: 4, hidden_size: 8, num_labels: 2, torch_dtype: 'float32' }, null, 2) + '\n',
    'model.py': MODEL_PY,
    'train.py': TRAIN_PY,
    'requirements.txt': 'torch>=2.4\nsafetensors>=0.4\n',
    'data/train.csv': TRAIN_CSV,
    'README.md': MODEL_CARD,
    'DATACARD.md': DATA_CARD,
    'LICENSE': APACHE_2_0,
    'docs/technical-report.md': TECHNICAL_REPORT,
    'eval_results.json': JSON.stringify({ results: { 'tiny-tabular': { 'accuracy,none': 1.0, alias: 'tiny-tabular' } } }, null, 2) + '\n',
  };
  await writeProjectFiles(dir, files);
  return { dir, files: Object.keys(files).sort() };
}
