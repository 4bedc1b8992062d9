# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reference ddp_benchmark is held to: a plain, hand-written PyTorch DDP training loop, as
the issue describes it - torchvision ResNet-50 (no weights), SGD, bf16 autocast, channels_last,
synthetic data made once on the GPU, DDP with its default options, cudnn.benchmark on.

    python3 -m torch.distributed.run --standalone --nproc-per-node 2 tests/gpu/ddp_reference.py \
        --batch-size 32 --warmup 30 --steps 120

Rank 0 prints one JSON line: world size, batch per GPU, steps, seconds of the timed steps (the
slowest rank's), img/s = world x batch x steps / seconds, and img/s per GPU - the same definition
ddp_benchmark uses. ``--device cpu --model small_cnn`` runs it without a GPU (gloo), only so that
tests/gpu/ddp_benchmark.yml can be rehearsed on a machine without one.
"""

import argparse
import json
import os
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP


def small_cnn(classes):
    def block(cin, cout, stride):
        return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    return nn.Sequential(*block(3, 32, 1), *block(32, 64, 2), *block(64, 64, 1), *block(64, 128, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, classes))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--image-size", type=int, default=224)
    ap.add_argument("--num-classes", type=int, default=1000)
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
    ap.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    args = ap.parse_args()

    cuda = args.device == "cuda"
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    local = int(os.environ["LOCAL_RANK"])
    if cuda:
        torch.cuda.set_device(local)
        torch.backends.cudnn.benchmark = True
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")

    if args.model == "small_cnn":
        model = small_cnn(args.num_classes)
    else:
        import torchvision
        model = torchvision.models.get_model(args.model, weights=None, num_classes=args.num_classes)
    model = model.to(device).to(memory_format=torch.channels_last)
    model = DDP(model, device_ids=[local] if cuda else None)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    criterion = nn.CrossEntropyLoss()
    x = torch.randn(args.batch_size, 3, args.image_size, args.image_size, device=device).to(memory_format=torch.channels_last)
    y = torch.randint(0, args.num_classes, (args.batch_size,), device=device)
    dtype = torch.bfloat16 if args.precision == "bf16" else None

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(args.device, dtype=dtype, enabled=dtype is not None):
            loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()

    for _step in range(args.warmup):
        step()
    if cuda:
        torch.cuda.synchronize()
        dist.barrier(device_ids=[local])
        torch.cuda.synchronize()
    else:
        dist.barrier()
    start = time.perf_counter()
    for _step in range(args.steps):
        step()
    if cuda:
        torch.cuda.synchronize()
    seconds = torch.tensor([time.perf_counter() - start], device=device)
    dist.all_reduce(seconds, op=dist.ReduceOp.MAX)
    seconds = float(seconds.item())
    if rank == 0:
        images = world * args.batch_size * args.steps / seconds
        print(json.dumps({"reference": "plain DDP loop", "model": args.model, "world_size": world,
                          "batch_size": args.batch_size, "precision": args.precision, "warmup": args.warmup,
                          "steps": args.steps, "seconds": round(seconds, 4), "img_per_s": round(images, 1),
                          "img_per_s_per_gpu": round(images / world, 1), "torch": torch.__version__,
                          "device": torch.cuda.get_device_name(local) if cuda else "cpu"}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
