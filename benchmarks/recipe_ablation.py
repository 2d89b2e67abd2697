"""Recipe ablations for the cpu profile: one trick at a time, judged on a validation split.

    python benchmarks/recipe_ablation.py --name base4 --epochs 4
    python benchmarks/recipe_ablation.py --name whiten4 --epochs 4 --whiten 1

Trains ConvMixer-h/d (default 128/8, k5, p4) on 45,000 CIFAR-10 training images and evaluates on
the other 5,000 (a fixed, seeded split): the test set is not read, so choices made from these
numbers leave it untouched. The loop is the cpu profile's recipe written out (AdamW, one-cycle,
clipping, crop + flip on whole batches) with switches the engine does not have, so a trick can be
tried before it moves into ``convmixer.train``: ``--whiten`` (1: whitened stem, 2: and frozen),
``--ls`` label smoothing, ``--ema`` decay of a weight average, evaluated beside the model, and
plain / flip / 6-view test-time augmentation at the end. Appends one JSON line per run to
``benchmarks/results/recipe_ablation.jsonl``.
"""
import argparse, json, time
from pathlib import Path
import torch
from torch import nn
from convmixer.train.acceleration import Acceleration
from convmixer.data.augment import AugmentConfig, augment_batch
from convmixer.data.sources import load_cifar10
from convmixer.model import ConvMixer
from convmixer.train import predict
from convmixer.train.whitening import whiten_stem

p = argparse.ArgumentParser()
p.add_argument("--name", required=True)
p.add_argument("--dim", type=int, default=128); p.add_argument("--depth", type=int, default=8)
p.add_argument("--k", type=int, default=5); p.add_argument("--p", type=int, default=4)
p.add_argument("--epochs", type=float, default=4); p.add_argument("--bs", type=int, default=256)
p.add_argument("--lr", type=float, default=0.01); p.add_argument("--wd", type=float, default=0.01)
p.add_argument("--ls", type=float, default=0.0); p.add_argument("--clip", type=float, default=1.0)
p.add_argument("--whiten", type=int, default=0)  # 1: whitened stem init (frozen=2: frozen)
p.add_argument("--ema", type=float, default=0.0)
p.add_argument("--opt", default="adamw"); p.add_argument("--threads", type=int, default=1)
p.add_argument("--seed", type=int, default=0); p.add_argument("--pad", type=int, default=4)
p.add_argument("--warm", type=float, default=0.4)  # fraction of training warming up
p.add_argument("--final", type=int, default=0)  # 1: train on all 50k, test on test set
p.add_argument("--act", default="gelu")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
train = load_cifar10("train"); test = load_cifar10("test")
g = torch.Generator().manual_seed(1234)
perm = torch.randperm(len(train), generator=g)
if a.final:
    tr_x, tr_y, va_x, va_y = train.images, train.labels, test.images, test.labels
else:
    va, tr = perm[:5000], perm[5000:]
    tr_x, tr_y, va_x, va_y = train.images[tr], train.labels[tr], train.images[va], train.labels[va]

model = ConvMixer(a.dim, a.depth, a.k, a.p, activation=a.act)

if a.whiten:
    whiten_stem(model, tr_x[:5000])
    if a.whiten == 2:
        model.stem.conv.weight.requires_grad_(False)
model = model.to(memory_format=torch.channels_last)
params = [q for q in model.parameters() if q.requires_grad]
steps_per_epoch = len(tr_x) // a.bs
total = int(a.epochs * steps_per_epoch)
if a.opt == "adamw":
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=a.wd, fused=True)
else:
    opt = torch.optim.SGD(params, lr=a.lr, momentum=0.9, nesterov=True, weight_decay=a.wd)
def mult(step):
    t = (step + 1) / total
    knots = ((0.0, 0.0), (a.warm, 1.0), (0.8, 0.05), (1.0, 0.0))
    for (t0, y0), (t1, y1) in zip(knots, knots[1:]):
        if t <= t1:
            return y0 + (y1 - y0) * (t - t0) / (t1 - t0)
    return 0.0
sched = torch.optim.lr_scheduler.LambdaLR(opt, mult)
ema = torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(a.ema), use_buffers=True) if a.ema else None
loss_fn = nn.CrossEntropyLoss(label_smoothing=a.ls)
aug = AugmentConfig(crop_padding=a.pad, flip=True)
gen = torch.Generator()

TTA = {0: "none", 1: "flip", 2: "flip-shift"}  # the columns tta0, tta1, tta2 of the results


def evaluate(m, tta):
    m.eval()
    logits = predict(m, va_x, acceleration=Acceleration(channels_last=True), tta=TTA[tta])
    m.train(); return (logits.argmax(1) == va_y).double().mean().item()

t0 = time.perf_counter(); step = 0; curve = []
model.train(); done = False; ep = 0
while not done:
    if step >= total:
        break
    order = torch.randperm(len(tr_x), generator=torch.Generator().manual_seed(a.seed * 1000 + ep))
    lsum = 0.0; ln = 0
    for i in range(steps_per_epoch):
        if step >= total: done = True; break
        idx = order[i*a.bs:(i+1)*a.bs]
        gen.manual_seed(a.seed * 100000 + step)
        x = augment_batch(tr_x[idx], aug, gen).contiguous(memory_format=torch.channels_last)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), tr_y[idx]); loss.backward()
        if a.clip: nn.utils.clip_grad_norm_(params, a.clip)
        opt.step(); sched.step(); step += 1
        if ema is not None: ema.update_parameters(model)
        lsum += loss.item(); ln += 1
    ep += 1
    el = time.perf_counter() - t0
    curve.append({"epoch": ep, "train_loss": lsum / max(ln, 1), "seconds": el})
    print(f"{a.name} ep {ep} loss {lsum/max(ln,1):.3f} {el:.0f}s", flush=True)
train_s = time.perf_counter() - t0
acc = {f"tta{t}": evaluate(model, t) for t in (0, 1, 2)}
acc_ema = {f"tta{t}": evaluate(ema.module, t) for t in (0, 1, 2)} if ema is not None else None
res = {"args": vars(a), "acc": acc, "acc_ema": acc_ema, "train_seconds": train_s, "curve": curve,
       "wall": time.perf_counter() - t0}
print(json.dumps({k: res[k] for k in ("acc", "acc_ema", "train_seconds")}), flush=True)
with open(Path(__file__).resolve().parent / "results" / "recipe_ablation.jsonl", "a") as f:
    f.write(json.dumps(res) + "\n")
