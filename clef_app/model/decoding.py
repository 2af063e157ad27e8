"""Batched greedy decoding with a KV cache, constrained to the token grammar."""

from __future__ import annotations

from collections.abc import Callable

import torch

from clef_app.model.clef_model import ClefModel
from clef_app.model.grammar import Grammar
from clef_app.model.progress import Cancelled
from clef_app.notation.codec import BOS, EOS, PAD

_NEG = float("-inf")


@torch.no_grad()
def greedy_decode(model: ClefModel, memory: torch.Tensor, n_frames: int,
                  max_tokens: int | None = None, cancel: Callable[[], bool] | None = None,
                  grammar: Grammar | None = None
                  ) -> tuple[list[list[int]], list[list[float]]]:
    """Decode each segment's tokens.

    Args:
        memory: (B, cols, d_model) from `model.encode`.
        n_frames: frames per segment (the largest TIME token allowed).
        cancel: checked before every token step (a batch of 16 segments takes seconds).
        grammar: the rows' grammar state (default: the plain token grammar); a
            `ConstrainedGrammar` forces and forbids tokens (`model/constraints.py`).
    Raises:
        Cancelled: `cancel` returned True.
    Returns:
        Per segment, the tokens (BOS .. EOS) and each token's probability.
    """
    b, device = memory.shape[0], memory.device
    limit = min(max_tokens or model.cfg.max_tokens, model.cfg.max_tokens)
    tokens = torch.full((b, 1), BOS, dtype=torch.long, device=device)
    probs = torch.ones(b, 1, device=device)
    grammar = grammar if grammar is not None else Grammar(b, n_frames)
    done = torch.zeros(b, dtype=torch.bool, device=device)
    live = torch.arange(b, device=device)  # rows still decoding; finished ones leave the batch
    cache: dict = {}
    logits = model.step(tokens, memory, cache, 0)
    for t in range(1, limit):
        if cancel is not None and cancel():
            raise Cancelled
        allowed = torch.from_numpy(grammar.mask()).to(device)[live]
        p = torch.softmax(logits.float().masked_fill(~allowed, _NEG), dim=-1)
        nxt = torch.full((b,), PAD, dtype=torch.long, device=device)
        prob = torch.ones(b, device=device)
        prob[live], nxt[live] = p.max(dim=-1)
        grammar.update(nxt.tolist())
        tokens = torch.cat([tokens, nxt[:, None]], dim=1)
        probs = torch.cat([probs, prob[:, None]], dim=1)
        done |= nxt == EOS
        if bool(done.all()) or t == limit - 1:
            break
        going = ~done[live]
        if not bool(going.all()):  # a finished row no longer costs a decoder step
            live, memory = live[going], memory[going]
            cache = {name: (k[going], v[going]) for name, (k, v) in cache.items()}
        logits = model.step(nxt[live][:, None], memory, cache, t)
    out_tokens, out_probs = [], []
    for row, prow in zip(tokens.tolist(), probs.tolist(), strict=True):
        end = row.index(EOS) + 1 if EOS in row else len(row)
        out_tokens.append(row[:end])
        out_probs.append(prow[:end])
    return out_tokens, out_probs
