"""Building blocks: spectral-normalised convs, conditional batch norm, residual up/down blocks."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm


def sn_conv(cin: int, cout: int, kernel: int, bias: bool = True, use_sn: bool = True) -> nn.Module:
    """A same-padding conv, spectral-normalised unless use_sn is False (the encoder)."""
    conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=bias)
    return spectral_norm(conv) if use_sn else conv


def sn_linear(cin: int, cout: int, bias: bool = True, use_sn: bool = True) -> nn.Module:
    linear = nn.Linear(cin, cout, bias=bias)
    return spectral_norm(linear) if use_sn else linear


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose gain and bias come from the class label (plain affine BN when n_classes == 0)."""

    def __init__(self, channels: int, n_classes: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=n_classes == 0)
        self.embed = nn.Embedding(n_classes, 2 * channels) if n_classes else None
        if self.embed is not None:
            nn.init.ones_(self.embed.weight[:, :channels])
            nn.init.zeros_(self.embed.weight[:, channels:])

    def forward(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """x (B, C, H, W), y (B,) labels or None -> (B, C, H, W)."""
        x = self.bn(x)
        if self.embed is None:
            return x
        gain, bias = self.embed(y).chunk(2, dim=1)             # (B, C) each
        return x * gain[:, :, None, None] + bias[:, :, None, None]


class UpBlock(nn.Module):
    """Generator residual block (BigGAN): BN-ReLU-up-conv-BN-ReLU-conv, shortcut up-conv1x1; side x2
    (side kept when up=False: the extra blocks of model.depth)."""

    def __init__(self, cin: int, cout: int, n_classes: int, up: bool = True):
        super().__init__()
        self.scale = 2 if up else 1
        self.bn1 = ConditionalBatchNorm2d(cin, n_classes)
        self.conv1 = sn_conv(cin, cout, 3)
        self.bn2 = ConditionalBatchNorm2d(cout, n_classes)
        self.conv2 = sn_conv(cout, cout, 3)
        self.skip = sn_conv(cin, cout, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """(B, cin, H, W) -> (B, cout, 2H, 2W)."""
        h = F.interpolate(F.relu(self.bn1(x, y)), scale_factor=self.scale, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h), y)))
        return h + self.skip(F.interpolate(x, scale_factor=self.scale, mode="nearest"))


class DownBlock(nn.Module):
    """Discriminator/encoder residual block: ReLU-conv-ReLU-conv-avgpool, shortcut conv1x1-avgpool; side /2
    (side kept when down=False: the extra blocks of model.depth)."""

    def __init__(self, cin: int, cout: int, use_sn: bool = True, down: bool = True):
        super().__init__()
        self.pool = 2 if down else 1
        self.conv1 = sn_conv(cin, cout, 3, use_sn=use_sn)
        self.conv2 = sn_conv(cout, cout, 3, use_sn=use_sn)
        self.skip = sn_conv(cin, cout, 1, use_sn=use_sn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, cin, H, W) -> (B, cout, H/2, W/2)."""
        h = self.conv2(F.relu(self.conv1(F.relu(x))))
        return F.avg_pool2d(h, self.pool) + F.avg_pool2d(self.skip(x), self.pool)


def init_weights(module: nn.Module) -> None:
    """Orthogonal init for convs and linears (BigGAN), applied before spectral norm's first estimate."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            weight = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            nn.init.orthogonal_(weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    with torch.no_grad():  # refresh spectral norm's power-iteration vectors for the new weights
        for m in module.modules():
            if hasattr(m, "parametrizations"):
                for _ in range(15):
                    m.parametrizations.weight[0](m.parametrizations.weight.original)
