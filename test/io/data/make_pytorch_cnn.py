#!/usr/bin/python3
"""A small PyTorch CNN with the layers the other PyTorch files do not have, for
test/io/review_pytorch_cnn_test.cpp (an outside reviewer's test; checked in, so the test runs
without PyTorch):

    /usr/bin/python3 test/io/data/make_pytorch_cnn.py test/io/data

Needs python3-torch and python3-numpy (Debian). The network, on [2, 3, 17, 25] images:

    c1  = Conv2d(3, 5, 3, stride=2, padding=1)   -> [2, 5, 9, 13]
    bn1 = BatchNorm2d(5)
    ReLU, MaxPool2d(3, stride=2)                  -> [2, 5, 4, 6]  (overlapping windows)
    c2  = Conv2d(5, 4, 1)                         -> [2, 4, 4, 6]  (1x1)
    ReLU, AvgPool2d(2)                            -> [2, 4, 2, 3]
    flatten                                       -> [2, 24]
    fc  = Linear(24, 3)

trained for 5 SGD steps (so the running estimates moved), then written:
  cnn.npz              the state_dict through numpy.savez, float32 (num_batches_tracked too)
  cnn_inputs.npy       2 images [2, 3, 17, 25], float32
  cnn_targets.npy      one-hot targets [2, 3], float32
  cnn_logits.npy       eval-mode logits, float32
  cnn_logits_f64.npy   eval-mode logits of model.double() on the same weights
  cnn_train_f64.npz    float64, training mode (batch statistics) on the same weights:
                       "grad.<name>" for every parameter (PyTorch's layout), and
                       "after.bn1.running_mean" / "_var" (the running estimates after that one
                       forward pass)
  cnn_train_loss_f64.npy  that pass's loss (cross entropy, mean over the batch), shape [1]
"""
import os
import sys

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as F


class Net(tnn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = tnn.Conv2d(3, 5, 3, stride=2, padding=1)
        self.bn1 = tnn.BatchNorm2d(5)
        self.c2 = tnn.Conv2d(5, 4, 1)
        self.fc = tnn.Linear(24, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.c1(x))), 3, stride=2)
        x = F.avg_pool2d(F.relu(self.c2(x)), 2)
        return self.fc(torch.flatten(x, 1))


def main(out):
    torch.manual_seed(8)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(5):
        x = torch.randn(8, 3, 17, 25)
        y = torch.randint(0, 3, (8,))
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    net.eval()
    x = torch.randn(2, 3, 17, 25)
    labels = torch.tensor([2, 0])
    onehot = F.one_hot(labels, 3).float()
    sd = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    np.savez(os.path.join(out, "cnn.npz"), **sd)
    np.save(os.path.join(out, "cnn_inputs.npy"), x.numpy())
    np.save(os.path.join(out, "cnn_targets.npy"), onehot.numpy())
    with torch.no_grad():
        np.save(os.path.join(out, "cnn_logits.npy"), net(x).numpy())
        d = Net().double()
        d.load_state_dict({k: v.double() if v.is_floating_point() else v
                           for k, v in net.state_dict().items()})
        d.eval()
        np.save(os.path.join(out, "cnn_logits_f64.npy"), d(x.double()).numpy())
    d.train()
    loss = F.cross_entropy(d(x.double()), labels)
    loss.backward()
    np.save(os.path.join(out, "cnn_train_loss_f64.npy"), np.array([loss.item()]))
    train = {}
    for k, p in d.named_parameters():
        train["grad." + k] = p.grad.numpy()
    train["after.bn1.running_mean"] = d.bn1.running_mean.numpy()
    train["after.bn1.running_var"] = d.bn1.running_var.numpy()
    np.savez(os.path.join(out, "cnn_train_f64.npz"), **train)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
