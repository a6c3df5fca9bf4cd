"""Hand-written torch versions of the seed documents' building blocks and of MobileNetV1.

They are written here from the papers' descriptions, independently of costmodel's lowering, so that fvcore's
counts of them check the IR's numbers without resting on ``costmodel.lowering.to_torch``.
"""
import torch
from torch import nn
from torch.nn import functional as F


def conv_bn(cin, cout, k, stride=1, groups=1, act=nn.ReLU):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class DepthwiseSeparable(nn.Module):
    """MobileNetV1: 3x3 depthwise + BN + ReLU, 1x1 pointwise + BN + ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.depthwise = conv_bn(cin, cin, 3, stride, groups=cin)
        self.pointwise = conv_bn(cin, cout, 1)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class MobileNetV1(nn.Module):
    """MobileNetV1, Table 1 of the paper, 1000 classes."""

    PAIRS = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)] + \
        [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]

    def __init__(self, alpha=1.0):
        super().__init__()
        width = lambda c: max(int(c * alpha), 8)  # noqa: E731
        self.stem = conv_bn(3, width(32), 3, 2)
        self.body = nn.Sequential(*[DepthwiseSeparable(width(m), width(n), s) for m, n, s in self.PAIRS])
        self.fc = nn.Linear(width(1024), 1000)

    def forward(self, x):
        x = self.body(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class InvertedResidual(nn.Module):
    """MobileNetV2's bottleneck: 1x1 expand + ReLU6, 3x3 depthwise + ReLU6, linear 1x1, residual if it fits."""

    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        self.expand = conv_bn(cin, hidden, 1, act=nn.ReLU6)
        self.depthwise = conv_bn(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6)
        self.project = conv_bn(hidden, cout, 1, act=None)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.project(self.depthwise(self.expand(x)))
        return x + y if self.residual else y


class HSigmoid(nn.Module):
    def forward(self, x):
        return F.relu6(x + 3.0) / 6.0


class SqueezeExcite(nn.Module):
    """MobileNetV3's SE: pool, 1x1 to C/4 (rounded to 8) + ReLU, 1x1 to C + hard sigmoid, scale."""

    def __init__(self, channels):
        super().__init__()
        squeeze = max(8, (channels // 4 + 4) // 8 * 8)    # nearest multiple of 8 ...
        if squeeze < 0.9 * (channels // 4):                  # ... but never 10% below C/4
            squeeze += 8
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * self.gate(self.fc2(F.relu(self.fc1(s))))


class Sandglass(nn.Module):
    """MobileNeXt's sandglass block: dw 3x3 + ReLU6, 1x1 reduce (linear), 1x1 expand + ReLU6, dw 3x3 (linear)."""

    def __init__(self, channels, reduction):
        super().__init__()
        hidden = channels // reduction
        self.dw1 = conv_bn(channels, channels, 3, groups=channels, act=nn.ReLU6)
        self.reduce = conv_bn(channels, hidden, 1, act=None)
        self.expand = conv_bn(hidden, channels, 1, act=nn.ReLU6)
        self.dw2 = conv_bn(channels, channels, 3, groups=channels, act=None)

    def forward(self, x):
        return x + self.dw2(self.expand(self.reduce(self.dw1(x))))


def shuffle(x, groups):
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class ShuffleV1Unit(nn.Module):
    """ShuffleNet unit: 1x1 GConv + ReLU, shuffle, 3x3 dw (stride), 1x1 GConv; add, or avg-pool + concat."""

    def __init__(self, cin, cout, stride, groups):
        super().__init__()
        mid = cout // 4
        out = cout - cin if stride == 2 else cout
        self.groups, self.stride = groups, stride
        self.gconv1 = conv_bn(cin, mid, 1, groups=groups)
        self.dw = conv_bn(mid, mid, 3, stride, groups=mid, act=None)
        self.gconv2 = conv_bn(mid, out, 1, groups=groups, act=None)

    def forward(self, x):
        y = self.gconv2(self.dw(shuffle(self.gconv1(x), self.groups)))
        if self.stride == 2:
            return torch.cat([F.avg_pool2d(x, 3, 2, 1), F.relu(y)], 1)
        return F.relu(x + y)


class ShuffleV2Unit(nn.Module):
    """ShuffleNet V2 unit: split in half (stride 1) or two branches (stride 2), concat, shuffle."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        half = cout // 2
        branch_in = cin if stride == 2 else cin // 2
        self.branch2 = nn.Sequential(conv_bn(branch_in, half, 1), conv_bn(half, half, 3, stride, groups=half, act=None),
                                     conv_bn(half, half, 1))
        if stride == 2:
            self.branch1 = nn.Sequential(conv_bn(cin, cin, 3, stride, groups=cin, act=None), conv_bn(cin, half, 1))

    def forward(self, x):
        if self.stride == 1:
            a, b = x.chunk(2, dim=1)
            out = torch.cat([a, self.branch2(b)], 1)
        else:
            out = torch.cat([self.branch1(x), self.branch2(x)], 1)
        return shuffle(out, 2)


class InceptionModule(nn.Module):
    """GoogLeNet's Inception module: 1x1; 1x1 -> 3x3; 1x1 -> 5x5; 3x3 max pool -> 1x1; concatenated."""

    def __init__(self, cin, n1, r3, n3, r5, n5, pool):
        super().__init__()
        relu_conv = lambda a, b, k: nn.Sequential(nn.Conv2d(a, b, k, padding=k // 2), nn.ReLU())  # noqa: E731
        self.b1 = relu_conv(cin, n1, 1)
        self.b2 = nn.Sequential(relu_conv(cin, r3, 1), relu_conv(r3, n3, 3))
        self.b3 = nn.Sequential(relu_conv(cin, r5, 1), relu_conv(r5, n5, 5))
        self.b4 = relu_conv(cin, pool, 1)

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(F.max_pool2d(x, 3, 1, 1))], 1)


class XceptionSeparable(nn.Module):
    """Xception's separable conv: 3x3 depthwise then 1x1 pointwise, no activation between, then BN."""

    def __init__(self, cin, cout):
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.pointwise(self.depthwise(x)))


class BlazeBlock(nn.Module):
    """BlazeFace's single BlazeBlock: 5x5 depthwise + BN, 1x1 + BN, added to the shortcut (max-pooled and
    zero-padded in channels when the block strides and widens), ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride, self.pad = stride, cout - cin
        self.dw = nn.Sequential(nn.Conv2d(cin, cin, 5, stride, 2, groups=cin), nn.BatchNorm2d(cin))
        self.pw = nn.Sequential(nn.Conv2d(cin, cout, 1), nn.BatchNorm2d(cout))

    def forward(self, x):
        shortcut = F.max_pool2d(x, 2, 2) if self.stride == 2 else x
        if self.pad:
            shortcut = F.pad(shortcut, (0, 0, 0, 0, 0, self.pad))
        return F.relu(self.pw(self.dw(x)) + shortcut)
