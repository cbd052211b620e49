"""
The PyTorch twin of bench/nsp-simple.ts: the same synthetic topic documents and pair builder, a post-LN BERT
encoder (d 64, 2 layers, 2 heads, FFN 128, GELU) with normal(0.02) initialisation, pooler + classifier on [CLS],
AdamW (weight decay 0.01), 20 warm-up steps then a constant learning rate, clipping at 1, batch 16.
  /usr/bin/python3 bench/nsp-simple-torch.py [steps=300] [lr=2e-3] [init=0.02] [seed=0]
Prints validation loss and accuracy on 256 fresh pairs every 50 steps. Needs apt-get install -y python3-torch.
"""
import torch, random, math, sys
SEED = int(sys.argv[4]) if len(sys.argv) > 4 else 0
torch.manual_seed(SEED); random.seed(SEED)
torch.set_num_threads(1)
T, P, V, L = 20, 30, 5 + 20 * 30, 64
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 300
lr = float(sys.argv[2]) if len(sys.argv) > 2 else 2e-3
init = float(sys.argv[3]) if len(sys.argv) > 3 else 0.02
def doc():
    t = random.randrange(T)
    return [[5 + t * P + random.randrange(P) for _ in range(random.randint(6, 10))] for _ in range(8)]
docs = [doc() for _ in range(2000)]
def instance(docs):
    d = random.choice(docs); k = random.randint(1, 7)
    a = sum(d[:k], [])
    if random.random() < 0.5: b = sum(d[k:], []); y = 0
    else: o = random.choice(docs); j = random.randint(0, 7); b = sum(o[j:], []); y = 1
    while len(a) + len(b) > L - 3:
        if len(a) > len(b): a.pop()
        else: b.pop()
    ids = [2] + a + [3] + b + [3]; tt = [0] * (len(a) + 2) + [1] * (len(b) + 1)
    m = [1] * len(ids)
    pad = L - len(ids)
    return ids + [0] * pad, tt + [0] * pad, m + [0] * pad, y
def batch(docs, n):
    xs = [instance(docs) for _ in range(n)]
    return [torch.tensor([x[i] for x in xs]) for i in range(4)]
class M(torch.nn.Module):
    def __init__(s, d=64, layers=2, heads=2):
        super().__init__()
        s.wte = torch.nn.Embedding(V, d); s.wpe = torch.nn.Embedding(L, d); s.wtt = torch.nn.Embedding(2, d); s.ln = torch.nn.LayerNorm(d, eps=1e-12)
        s.enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(d, heads, 2 * d, 0.0, activation='gelu', batch_first=True, layer_norm_eps=1e-12), layers)
        s.pool = torch.nn.Linear(d, d); s.cls = torch.nn.Linear(d, 2)
        for p in s.modules():
            if isinstance(p, (torch.nn.Linear, torch.nn.Embedding)): torch.nn.init.normal_(p.weight, std=init)
            if isinstance(p, torch.nn.Linear) and p.bias is not None: torch.nn.init.zeros_(p.bias)
        for l in s.enc.layers: torch.nn.init.normal_(l.self_attn.in_proj_weight, std=init); torch.nn.init.zeros_(l.self_attn.in_proj_bias)
    def forward(s, ids, tt, m):
        x = s.ln(s.wte(ids) + s.wpe(torch.arange(L))[None] + s.wtt(tt))
        h = s.enc(x, src_key_padding_mask=(m == 0))
        return s.cls(torch.tanh(s.pool(h[:, 0])))
model = M()
opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
val = batch(docs, 256)
for step in range(steps + 1):
    if step % 50 == 0:
        with torch.no_grad():
            lo = model(*val[:3]); print(step, round(torch.nn.functional.cross_entropy(lo, val[3]).item(), 4), round((lo.argmax(1) == val[3]).float().mean().item(), 4), flush=True)
    for g in opt.param_groups: g['lr'] = lr * min(1, (step + 1) / 20)
    ids, tt, m, y = batch(docs, 16)
    loss = torch.nn.functional.cross_entropy(model(ids, tt, m), y)
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
