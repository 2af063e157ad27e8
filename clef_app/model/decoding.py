"""Batched greedy decoding with a KV cache, constrained to the token grammar."""

from __future__ import annotations

from collections.abc import Callable

import torch

from clef_app.model.clef_model import ClefModel
from clef_app.model.decoder import KVCache
from clef_app.model.grammar import Grammar
from clef_app.model.progress import Cancelled
from clef_app.notation.codec import BOS, EOS

_NEG = float("-inf")


@torch.inference_mode()
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
    grammar = grammar if grammar is not None else Grammar(b, n_frames)
    out_tokens: list[list[int]] = [[BOS] for _ in range(b)]
    out_probs: list[list[float]] = [[1.0] for _ in range(b)]
    live = list(range(b))  # rows still decoding; finished ones leave the batch
    cache = KVCache(limit)
    logits = model.step(torch.full((b, 1), BOS, dtype=torch.long, device=device), memory,
                        cache, 0)
    for t in range(1, limit):
        if cancel is not None and cancel():
            raise Cancelled
        allowed = torch.from_numpy(grammar.mask(live)).to(device)
        prob, nxt = torch.softmax(logits.float().masked_fill(~allowed, _NEG), dim=-1).max(-1)
        written = nxt.tolist()
        grammar.update(written, live)
        for row, tok, p in zip(live, written, prob.tolist(), strict=True):
            out_tokens[row].append(tok)
            out_probs[row].append(p)
        going = [i for i, tok in enumerate(written) if tok != EOS]
        if not going or t == limit - 1:
            break
        if len(going) < len(live):  # a finished row no longer costs a decoder step
            rows = torch.tensor(going, device=device)
            live, memory, nxt = [live[i] for i in going], memory[rows], nxt[rows]
            cache.keep(rows)
        logits = model.step(nxt[:, None], memory, cache, t)
    return out_tokens, out_probs
