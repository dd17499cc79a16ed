from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from ..._validation import check, check_int
from ...registry import MODELS
from ...utils import DEFAULT_CHUNK_ELEMS, chunked_topk_cosine
from ..utils import concat_all_gather


@MODELS.register_module()
class NNMemoryBank(BaseModule):
    """FIFO support set of past embeddings for nearest-neighbour positives.

    From `NNCLR <https://arxiv.org/abs/2104.14548>`_ (Sec. 3.2, the support
    set Q); the interface follows lightly's ``NNMemoryBankModule``.

    Rows are stored L2-normalised, so the nearest neighbour is the one of
    highest cosine similarity. The bank, the write pointer, the fill count
    and the labels of stored entries (for monitoring only) are persistent
    buffers, so a checkpoint holds the whole support set. Under DDP every
    rank enqueues the all-gathered batch in rank order and so holds an
    identical bank.

    Args:
        size (int): Number of stored embeddings (98,304 in the paper).
        feat_dim (int): Embedding dimension; must equal the neck's output.
        topk (int): Sample the positive uniformly among the ``topk`` nearest
            neighbours (the paper's Table 7 ablation). Defaults to 1.
        chunk_elems (int): Elements of one similarity block of the search,
            which bounds its extra memory. Defaults to
            ``DEFAULT_CHUNK_ELEMS`` (``2 ** 21``, 8 MiB in fp32).
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 size: int,
                 feat_dim: int,
                 topk: int = 1,
                 chunk_elems: int = DEFAULT_CHUNK_ELEMS,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        check_int('NNMemoryBank', 'size', size, 1)
        check_int('NNMemoryBank', 'feat_dim', feat_dim, 1)
        check_int('NNMemoryBank', 'topk', topk, 1)
        check_int('NNMemoryBank', 'chunk_elems', chunk_elems, 1)
        check(topk <= size, 'NNMemoryBank', 'topk', topk,
              f'<= size ({size})')
        self.size = size
        self.feat_dim = feat_dim
        self.topk = topk
        self.chunk_elems = chunk_elems
        self.register_buffer('bank', torch.zeros(size, feat_dim))
        self.register_buffer('labels', torch.full((size, ), -1))
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))
        self.register_buffer('num_filled', torch.zeros((), dtype=torch.long))

    @property
    def fill_ratio(self) -> float:
        """Fraction of the bank that holds embeddings."""
        return int(self.num_filled) / self.size

    def _check_feat(self, z: torch.Tensor) -> None:
        if z.dim() != 2 or z.size(1) != self.feat_dim:
            raise ValueError(
                f'NNMemoryBank: expected embeddings of shape (N, '
                f'{self.feat_dim}) (feat_dim), got {tuple(z.shape)}')

    @torch.no_grad()
    def nearest(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Nearest stored neighbour of each row of ``z``.

        Args:
            z (Tensor): ``(N, feat_dim)`` queries.

        Returns:
            tuple[Tensor, Tensor]: The ``(N, feat_dim)`` L2-normalised
            neighbours, in ``z``'s dtype and without gradient, and their
            ``(N, )`` indices in the bank. While the bank is empty each
            query is its own neighbour and its index is -1.
        """
        self._check_feat(z)
        queries = F.normalize(z.detach().to(self.bank.dtype), dim=1)
        num_filled = int(self.num_filled)
        if num_filled == 0:
            no_index = torch.full((len(z), ), -1, device=z.device)
            return queries.to(z.dtype), no_index
        k = min(self.topk, num_filled)
        _, idx = chunked_topk_cosine(queries, self.bank[:num_filled], k,
                                     self.chunk_elems)
        if k > 1:
            pick = torch.randint(k, (len(z), 1), device=idx.device)
            idx = idx.gather(1, pick)
        idx = idx[:, 0]
        return self.bank[idx].to(z.dtype), idx

    @torch.no_grad()
    def enqueue(self,
                z: torch.Tensor,
                labels: Optional[torch.Tensor] = None) -> None:
        """Store ``z`` (gathered from all ranks) first-in first-out.

        Args:
            z (Tensor): ``(N, feat_dim)`` embeddings.
            labels (Tensor, optional): ``(N, )`` class labels, kept only to
                measure neighbour accuracy. Defaults to None (stored as -1).
        """
        self._check_feat(z)
        if labels is None:
            labels = torch.full((len(z), ), -1, device=z.device)
        z = F.normalize(z.detach().to(self.bank.dtype), dim=1)
        z = concat_all_gather(z)
        labels = concat_all_gather(labels.to(self.labels))
        n = z.size(0)
        if n > self.size:
            raise ValueError(
                f'NNMemoryBank: size ({self.size}) is smaller than the '
                f'global batch ({n}); the batch would overwrite itself')
        rows = (self.ptr + torch.arange(n, device=z.device)) % self.size
        self.bank[rows] = z
        self.labels[rows] = labels
        self.ptr.copy_((self.ptr + n) % self.size)
        self.num_filled.copy_((self.num_filled + n).clamp(max=self.size))

    def forward(self,
                z: torch.Tensor,
                update: bool = False,
                labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Return the nearest neighbours of ``z``, then enqueue it.

        The search sees the bank as it was before this call.

        Args:
            z (Tensor): ``(N, feat_dim)`` queries.
            update (bool): Whether to enqueue ``z`` after the search.
                Defaults to False.
            labels (Tensor, optional): Labels stored with ``z`` when
                ``update``. Defaults to None.

        Returns:
            Tensor: ``(N, feat_dim)`` neighbours, see :meth:`nearest`.
        """
        neighbours, _ = self.nearest(z)
        if update:
            self.enqueue(z, labels)
        return neighbours

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # A bank of another size or dim must not load as a silent mismatch.
        saved = state_dict.get(prefix + 'bank')
        if saved is not None and saved.shape != self.bank.shape:
            raise ValueError(
                f'NNMemoryBank: the checkpoint\'s {prefix}bank has shape '
                f'{tuple(saved.shape)} (size, feat_dim) but the model\'s is '
                f'{tuple(self.bank.shape)}; set memory_bank size/feat_dim '
                'to match the checkpoint, or drop the bank keys from it to '
                'start with an empty support set')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
