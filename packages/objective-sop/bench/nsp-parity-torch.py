"""
The PyTorch half of bench/nsp-parity.ts: loads its initial weights (our parameter names, mapped onto a post-LN
BERT built from torch.nn layers) and its batches, trains with the same AdamW (decay only where ours decays),
warm-up and clipping, and prints both trajectories side by side.
  /usr/bin/python3 bench/nsp-parity-torch.py DIR [TORCH_INIT_SEED]
With TORCH_INIT_SEED, the weights are drawn by PyTorch (normal 0.02, zero biases) instead of loaded from DIR.
Needs apt-get install -y python3-torch.
"""
import json, struct, sys
import torch

torch.set_num_threads(1)
out = sys.argv[1]
ours = json.load(open(f'{out}/ours.json'))
steps, lr, L, with_mlm, pair = ours['steps'], ours['lr'], ours.get('seqLen', 64), ours.get('mlm', False), ours.get('pair', 'nsp')
B, d, layers, heads = 16, 64, 2, 2
gelu = lambda x: torch.nn.functional.gelu(x, approximate='tanh')  # ours is the tanh approximation


def safetensors(file):
    raw = open(file, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {})
    body = raw[8 + n:]
    tensors = {k: torch.frombuffer(bytearray(body[v['data_offsets'][0]:v['data_offsets'][1]]), dtype=torch.float32).reshape(v['shape']) for k, v in header.items()}
    return tensors, meta


w, meta = safetensors(f'{out}/init.safetensors')
V = w['backbone/wte'].shape[0]


class M(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.wte = torch.nn.Embedding(V, d); s.wpe = torch.nn.Embedding(L, d); s.wtt = torch.nn.Embedding(2, d)
        s.ln = torch.nn.LayerNorm(d, eps=1e-12)
        s.enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(d, heads, 2 * d, 0.0, activation=gelu, batch_first=True, layer_norm_eps=1e-12), layers, enable_nested_tensor=False)
        s.pool = torch.nn.Linear(d, d); s.cls = torch.nn.Linear(d, 2)
        if with_mlm:
            # BERT's MLM head: dense, GELU, LayerNorm, then logits tied to the word embeddings plus a bias.
            s.mlm_t = torch.nn.Linear(d, d); s.mlm_ln = torch.nn.LayerNorm(d, eps=1e-12); s.mlm_bias = torch.nn.Parameter(torch.zeros(V))

    def forward(s, ids, tt, m):
        x = s.ln(s.wte(ids) + s.wpe(torch.arange(L))[None] + s.wtt(tt))
        h = s.enc(x, src_key_padding_mask=(m == 0))
        pair = s.cls(torch.tanh(s.pool(h[:, 0])))
        if not with_mlm:
            return pair, None
        return pair, s.mlm_ln(gelu(s.mlm_t(h))) @ s.wte.weight.T + s.mlm_bias


model = M()
# Our kernels are [in, out] (x·W); torch's Linear weights are [out, in].
ours_to_torch = {'backbone/wte': 'wte.weight', 'backbone/wpe': 'wpe.weight', 'backbone/wtt': 'wtt.weight', 'backbone/emb_ln/gamma': 'ln.weight', 'backbone/emb_ln/beta': 'ln.bias',
                 f'{pair}/pooler/kernel': 'pool.weight', f'{pair}/pooler/bias': 'pool.bias', f'{pair}/classifier/kernel': 'cls.weight', f'{pair}/classifier/bias': 'cls.bias',
                 'mlm/transform/kernel': 'mlm_t.weight', 'mlm/transform/bias': 'mlm_t.bias', 'mlm/transform/gamma': 'mlm_ln.weight', 'mlm/transform/beta': 'mlm_ln.bias', 'mlm/output/bias': 'mlm_bias'}
for i in range(layers):
    p, t = f'backbone/h{i}', f'enc.layers.{i}'
    ours_to_torch.update({f'{p}/attn/proj/kernel': f'{t}.self_attn.out_proj.weight', f'{p}/attn/proj/bias': f'{t}.self_attn.out_proj.bias',
                          f'{p}/ln_1/gamma': f'{t}.norm1.weight', f'{p}/ln_1/beta': f'{t}.norm1.bias', f'{p}/ln_2/gamma': f'{t}.norm2.weight', f'{p}/ln_2/beta': f'{t}.norm2.bias',
                          f'{p}/mlp/fc/kernel': f'{t}.linear1.weight', f'{p}/mlp/fc/bias': f'{t}.linear1.bias', f'{p}/mlp/proj/kernel': f'{t}.linear2.weight', f'{p}/mlp/proj/bias': f'{t}.linear2.bias'})
state = {}
for k, v in w.items():
    if '/attn/' in k and k.split('/')[-2] in ('q', 'k', 'v'):
        continue
    state[ours_to_torch[k]] = v.T.contiguous() if k.endswith('kernel') else v
for i in range(layers):
    p = f'backbone/h{i}/attn'
    state[f'enc.layers.{i}.self_attn.in_proj_weight'] = torch.cat([w[f'{p}/{x}/kernel'].T for x in 'qkv'])
    state[f'enc.layers.{i}.self_attn.in_proj_bias'] = torch.cat([w[f'{p}/{x}/bias'] for x in 'qkv'])
model.load_state_dict(state, strict=True)
if len(sys.argv) > 2:
    # Our batches from PyTorch's own initialisation (seeded), to see how much the starting point alone decides.
    torch.manual_seed(int(sys.argv[2]))
    for q in model.modules():
        if isinstance(q, (torch.nn.Linear, torch.nn.Embedding)): torch.nn.init.normal_(q.weight, std=0.02)
        if isinstance(q, torch.nn.Linear) and q.bias is not None: torch.nn.init.zeros_(q.bias)
    for l in model.enc.layers: torch.nn.init.normal_(l.self_attn.in_proj_weight, std=0.02); torch.nn.init.zeros_(l.self_attn.in_proj_bias)

decayed = set(meta['decay'].split(','))
torch_decay = set()
for k in decayed:
    if '/attn/' in k and k.split('/')[-2] in ('q', 'k', 'v'):
        torch_decay.add(f"enc.layers.{k.split('/')[1][1:]}.self_attn.in_proj_weight")
    else:
        torch_decay.add(ours_to_torch[k])
named = dict(model.named_parameters())
opt = torch.optim.AdamW([{'params': [named[n] for n in named if n in torch_decay], 'weight_decay': 0.01},
                         {'params': [named[n] for n in named if n not in torch_decay], 'weight_decay': 0.0}], lr=lr, betas=(0.9, 0.999), eps=1e-8)


def batches(file, size):
    a = torch.frombuffer(bytearray(open(file, 'rb').read()), dtype=torch.int32).long()
    per = size * L * 4 + size
    for s in range(a.numel() // per):
        x = a[s * per:(s + 1) * per]
        ids, tt, m, labels = (x[j * size * L:(j + 1) * size * L].reshape(size, L) for j in range(4))
        yield ids, tt, m, labels, x[4 * size * L:]


def losses(ids, tt, m, labels, y):
    pair, vocab = model(ids, tt, m)
    nsp = torch.nn.functional.cross_entropy(pair, y)
    mlm = torch.nn.functional.cross_entropy(vocab.reshape(-1, V), labels.reshape(-1), ignore_index=-100) if with_mlm else None
    return pair, vocab, nsp, mlm


val = next(batches(f'{out}/val.bin', 256))
print(f"validation: {val[4].float().mean().item():.3f} of the pairs are label 1 ({'random B' if pair == 'nsp' else 'swapped'})")
print(f'step  ours: loss  norm     {pair} val loss, acc  (mlm val loss, acc) | torch: the same')
rows = {r['step']: r for r in ours['rows']}
f = lambda *xs: '  '.join(f'{x:.4f}' for x in xs)
for step, (ids, tt, m, labels, y) in enumerate(batches(f'{out}/batches.bin', B), start=1):
    _, _, nsp, mlm = losses(ids, tt, m, labels, y)
    loss = nsp + mlm if with_mlm else nsp
    opt.zero_grad(); loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item()
    for g in opt.param_groups: g['lr'] = lr * min(1, step / 20)
    opt.step()
    # Without our rows (nsp-parity.ts --data-only), PyTorch alone, validated every 50 steps.
    r = rows.get(step, {'loss': float('nan'), 'norm': float('nan'), **({'valLoss': float('nan'), 'valAccuracy': float('nan'), 'mlmLoss': float('nan'), 'mlmAccuracy': float('nan')} if step % 50 == 0 or step == 1 else {})})
    line = f"{step:<5} {f(r['loss'], r['norm'])}"
    if 'valLoss' in r:
        with torch.no_grad():
            pair, vocab, vl, ml = losses(*val)
            va = (pair.argmax(1) == val[4]).float().mean().item()
            mine = [r['valLoss'], r['valAccuracy']] + ([r['mlmLoss'], r['mlmAccuracy']] if with_mlm else [])
            theirs = [vl.item(), va]
            if with_mlm:
                picked = val[3] != -100
                theirs += [ml.item(), (vocab.argmax(-1)[picked] == val[3][picked]).float().mean().item()]
        print(f"{line}  {f(*mine)} | {f(loss.item(), norm, *theirs)}")
    elif step <= 10:
        print(f"{line}  {' ' * 8 * (4 if with_mlm else 2)}| {f(loss.item(), norm)}")
