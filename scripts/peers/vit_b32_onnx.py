# Exports a ViT-B/32 CLIP image tower (the architecture of
# openai/clip-vit-base-patch32) with deterministic random weights to ONNX,
# for timing ONNX Runtime side by side with Sight (see BENCHMARKS.md).
# Needs only torch (Debian: python3-torch).
import sys, torch, torch.nn as nn

class QuickGELU(nn.Module):
    def forward(self, x): return x * torch.sigmoid(1.702 * x)

class Layer(nn.Module):
    def __init__(s, d=768, h=12, inter=3072):
        super().__init__()
        s.ln1, s.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        s.attn = nn.MultiheadAttention(d, h, batch_first=True)
        s.mlp = nn.Sequential(nn.Linear(d, inter), QuickGELU(), nn.Linear(inter, d))
    def forward(s, x):
        y = s.ln1(x)
        x = x + s.attn(y, y, y, need_weights=False)[0]
        return x + s.mlp(s.ln2(x))

class Vision(nn.Module):
    def __init__(s, d=768, layers=12, proj=512):
        super().__init__()
        s.patch = nn.Conv2d(3, d, 32, 32, bias=False)
        s.cls = nn.Parameter(torch.randn(d) * 0.02)
        s.pos = nn.Parameter(torch.randn(50, d) * 0.02)
        s.pre, s.post = nn.LayerNorm(d), nn.LayerNorm(d)
        s.layers = nn.ModuleList([Layer() for _ in range(layers)])
        s.proj = nn.Linear(d, proj, bias=False)
    def forward(s, px):
        x = s.patch(px).flatten(2).transpose(1, 2)
        x = torch.cat([s.cls.expand(x.shape[0], 1, -1), x], 1) + s.pos
        x = s.pre(x)
        for l in s.layers: x = l(x)
        return s.proj(s.post(x[:, 0]))

torch.manual_seed(1)
m = Vision().eval()
print(sum(p.numel() for p in m.parameters()), "parameters", file=sys.stderr)
torch.onnx.export(m, torch.randn(1, 3, 224, 224), sys.argv[1], input_names=["pixel_values"],
                  output_names=["image_embeds"], dynamic_axes={"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}},
                  opset_version=14)
