"""Hand-written torch modules in the styles people write, for the importer's tests: functional ops, in-place ops,
channel shuffles by view and transpose, squeeze-excite with torch.sigmoid, and attention three ways (the fused
kernel, explicit matrix products, nn.MultiheadAttention)."""
import torch
from torch import nn
from torch.nn import functional as F


class FunctionalNet(nn.Module):
    """chunk, cat, a view + transpose shuffle, x.mean((2, 3)), F.adaptive_avg_pool2d, F.interpolate, in-place ops."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.branch = nn.Conv2d(8, 8, 3, 1, 1, groups=8, bias=False)
        self.up = nn.Conv2d(16, 16, 1)
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        x = F.relu(self.bn(self.stem(x)), inplace=True)
        a, b = x.chunk(2, dim=1)
        x = torch.cat([a, self.branch(b)], dim=1)
        n, c, h, w = x.size()
        x = x.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, c, h, w)
        y = F.max_pool2d(x, 2)
        y = F.interpolate(self.up(y), scale_factor=2, mode="nearest")
        x = x + y
        x += 1.0
        pooled = torch.cat([x.mean((2, 3)), torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)], dim=1)
        return self.fc(pooled)


class SqueezeExciteNet(nn.Module):
    """A squeeze-excite gate through torch.sigmoid and a hard sigmoid written out (relu6(x + 3) / 6)."""

    def __init__(self, channels=24):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)
        self.fc1 = nn.Conv2d(channels, channels // 4, 1)
        self.fc2 = nn.Conv2d(channels // 4, channels, 1)

    def forward(self, x):
        x = self.conv(x)
        s = F.adaptive_avg_pool2d(x, 1)
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(s))))
        x = x * s
        return F.relu6(x + 3.0) / 6.0


class TokenAttention(nn.Module):
    """Patch embedding, then one pre-norm attention block, by ``how``: "sdpa" (F.scaled_dot_product_attention),
    "matmul" (q @ k^T, softmax, @ v) or "mha" (nn.MultiheadAttention, asked for its averaged weights or not)."""

    def __init__(self, how="sdpa", dim=32, heads=4, patch=4, need_weights=False):
        super().__init__()
        self.how, self.heads, self.need_weights = how, heads, need_weights
        self.embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.norm = nn.LayerNorm(dim)
        if how == "mha":
            self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        else:
            self.qkv = nn.Linear(dim, 3 * dim)
            self.proj = nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        y = self.norm(x)
        if self.how == "mha":
            y = self.attn(y, y, y, need_weights=self.need_weights)[0]
        else:
            b, n, c = y.shape
            qkv = self.qkv(y).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
            q, k, v = qkv.unbind(0)
            if self.how == "sdpa":
                y = F.scaled_dot_product_attention(q, k, v)
            else:
                attn = (q * (c // self.heads) ** -0.5) @ k.transpose(-2, -1)
                y = attn.softmax(dim=-1) @ v
            y = self.proj(y.transpose(1, 2).reshape(b, n, c))
        x = x + y
        x = x + self.mlp(x)
        return self.head(x[:, 0])


class PixelShuffleNet(nn.Module):
    """A convolution, then a pixel shuffle (``nn.PixelShuffle``, which costmodel has no op for), then another."""

    def __init__(self, channels=8):
        super().__init__()
        self.conv = nn.Conv2d(3, 4 * channels, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2)
        self.out = nn.Conv2d(channels, 3, 1)

    def forward(self, x):
        return self.out(self.shuffle(self.conv(x)))


class SharedConv(nn.Module):
    """One convolution (and one ReLU) called twice: its weights count once, its work twice."""

    def __init__(self, channels=4):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.conv(self.act(self.conv(x))))


class Detector(nn.Module):
    """A detection model's shape (torchvision's SSD, RetinaNet, FCOS): a backbone and a head that read the image,
    then post-processing that branches on the scores' values (keep the boxes above a threshold)."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                                      nn.Conv2d(8, 16, 3, stride=2, padding=1))
        self.head = nn.Conv2d(16, 4, 1)

    def forward(self, x):
        scores = self.head(self.backbone(x)).flatten(1)
        if scores.max() > 0.5:                  # data-dependent: neither torch.fx nor torch.export captures it
            return scores[scores > 0.5]
        return scores


def build(name="functional", **kwargs):
    """A factory for the command-line tests."""
    return {"functional": FunctionalNet, "se": SqueezeExciteNet, "attention": TokenAttention,
            "pixel_shuffle": PixelShuffleNet, "shared": SharedConv, "detector": Detector}[name](**kwargs)
