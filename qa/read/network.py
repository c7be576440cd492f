"""The reader network (torch; used to train and export only, never at question time).

MiniLM (the bundled all-MiniLM-L6-v2 encoder) reads "[CLS] question [SEP] passage window [SEP]" and four
heads read its last layer:
  - start and end logits over the tokens (the answer span; [CLS] is "no answer here", as in SQuAD 2.0);
  - a per-token "answering sentence" logit (a sentence's score is the mean over its tokens);
  - a window logit on [CLS]: whether this window answers the question at all.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from qa.read.files import OUTPUTS  # noqa: F401 - the order of forward()'s outputs


class ReaderNetwork(nn.Module):
    def __init__(self, encoder: Any) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = int(encoder.config.hidden_size)
        self.tokens = nn.Linear(hidden, 3)
        self.window = nn.Linear(hidden, 1)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        per_token = self.tokens(hidden)
        answer = self.window(hidden[:, 0]).squeeze(-1)
        return per_token[..., 0], per_token[..., 1], per_token[..., 2], answer


def load_network(model_dir: str) -> ReaderNetwork:
    """A reader whose encoder starts from the weights in `model_dir` (heads freshly initialised)."""
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(model_dir, add_pooling_layer=False)
    return ReaderNetwork(encoder)
