"""Spectral-normalised convolution and linear layers (the discriminator and SAGAN's attention use them)."""
from __future__ import annotations

import torch.nn as nn
from torch.nn.utils.parametrizations import spectral_norm


def sn_conv(cin: int, cout: int, kernel: int, bias: bool = True, use_sn: bool = True) -> nn.Module:
    """A same-padding conv, spectral-normalised unless use_sn is False."""
    conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=bias)
    return spectral_norm(conv) if use_sn else conv


def sn_linear(cin: int, cout: int, bias: bool = True, use_sn: bool = True) -> nn.Module:
    linear = nn.Linear(cin, cout, bias=bias)
    return spectral_norm(linear) if use_sn else linear
