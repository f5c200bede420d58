#!/usr/bin/python3
"""PyTorch's optimizers and schedules on parameters of odd sizes, for
test/nn/review_optim_pytorch_test.cpp (an outside reviewer's test; checked in, so the test runs
without PyTorch):

    /usr/bin/python3 test/io/data/make_pytorch_optim.py test/io/data

Needs python3-torch and python3-numpy (Debian). Everything is float64. The parameters carry
ctgrad's names and shapes (an nn::conv2d<"c", 3, 7, 1> and an nn::dense<"fc", 13, 5>): the
optimizers are elementwise, so the layout does not matter to PyTorch. Written:
  optim_init.npz      the initial parameters c.W [7, 3, 1, 1], c.b [7], fc.W [13, 5], fc.b [5]
  optim_grads.npz     the gradient of each of the 6 steps, "g<t>.<name>" (fixed random numbers:
                      the optimizers do not care where a gradient comes from)
  optim_<case>.npz    the parameters after the 6 steps, for each case below
  optim_<case>_lr.npy the learning rate PyTorch used at each step (for the scheduled cases)
"""
import math
import os
import sys

import numpy as np
import torch

STEPS = 6
SHAPES = {"c.W": (7, 3, 1, 1), "c.b": (7,), "fc.W": (13, 5), "fc.b": (5,)}


def cases():
    # name -> (optimizer factory, scheduler factory or None, clip value or None)
    sgd = torch.optim.SGD
    return {
        "sgd_wd": (lambda p: sgd(p, lr=0.05, weight_decay=0.1), None, None),
        "sgd_clip_value": (lambda p: sgd(p, lr=0.05), None, 0.3),
        "momentum": (lambda p: sgd(p, lr=0.05, momentum=0.9), None, None),
        "nesterov": (lambda p: sgd(p, lr=0.05, momentum=0.8, nesterov=True), None, None),
        "adam_cosine": (lambda p: torch.optim.Adam(p, lr=0.01),
                        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4,
                                                                             eta_min=0.001),
                        None),
        "adamw_step": (lambda p: torch.optim.AdamW(p, lr=0.02, weight_decay=0.05,
                                                   betas=(0.8, 0.99), eps=1e-6),
                       lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
                       None),
    }


def main(out):
    rng = np.random.default_rng(8)
    init = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
    grads = {f"g{t}.{k}": rng.standard_normal(s) * (0.5 + t) for t in range(STEPS)
             for k, s in SHAPES.items()}
    np.savez(os.path.join(out, "optim_init.npz"), **init)
    np.savez(os.path.join(out, "optim_grads.npz"), **grads)
    for name, (make_opt, make_sched, clip) in cases().items():
        params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
                  for k, v in init.items()}
        opt = make_opt(list(params.values()))
        sched = make_sched(opt) if make_sched else None
        lrs = []
        for t in range(STEPS):
            for k, p in params.items():
                p.grad = torch.tensor(grads[f"g{t}.{k}"], dtype=torch.float64)
            if clip is not None:
                torch.nn.utils.clip_grad_value_(list(params.values()), clip)
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            if sched:
                sched.step()
        np.savez(os.path.join(out, f"optim_{name}.npz"),
                 **{k: p.detach().numpy() for k, p in params.items()})
        if sched:
            np.save(os.path.join(out, f"optim_{name}_lr.npy"), np.array(lrs))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
