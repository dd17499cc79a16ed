import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from toolkit import AUTOCAST_DTYPE, autocast

from nnclr_mm.models import NNMemoryBank
from nnclr_mm.utils import chunked_topk_cosine


def brute_force_nearest(queries: torch.Tensor, stored: torch.Tensor):
    """Index of the highest cosine similarity, computed in float64 numpy,
    on the device of ``queries``."""
    q = queries.double().cpu().numpy()
    s = stored.double().cpu().numpy()
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    s = s / np.linalg.norm(s, axis=1, keepdims=True)
    return torch.from_numpy((q @ s.T).argmax(axis=1)).to(queries.device)


def filled_bank(size=50, dim=8, batches=(16, 16, 10), device='cpu',
                **kwargs):
    bank = NNMemoryBank(size, dim, **kwargs).to(device)
    stored = []
    for n in batches:
        z = torch.randn(n, dim).to(device)
        bank.enqueue(z)
        stored.append(z)
    return bank, torch.cat(stored)


@pytest.mark.parametrize('chunk_elems', [1, 7, 64, 2**22])
def test_nearest_equals_brute_force(chunk_elems, device):
    bank, stored = filled_bank(chunk_elems=chunk_elems, device=device)
    queries = torch.randn(13, 8).to(device)
    neighbours, idx = bank.nearest(queries)
    expected = brute_force_nearest(queries, stored)
    assert torch.equal(idx, expected)
    torch.testing.assert_close(neighbours,
                               F.normalize(stored[expected], dim=1))


def test_topk_samples_uniformly_among_the_k_nearest():
    bank, stored = filled_bank(topk=3)
    query = torch.randn(1, 8)
    q = F.normalize(query, dim=1)
    top3 = set((q @ F.normalize(stored, dim=1).T)[0].topk(3).indices.tolist())
    picks = torch.stack([bank.nearest(query)[1] for _ in range(600)])[:, 0]
    counts = torch.bincount(picks, minlength=len(stored))
    assert set(picks.tolist()) == top3
    # 600 uniform draws over 3 values: each count is 200 +- 5 sigma (58).
    assert all(abs(counts[i].item() - 200) < 58 for i in top3)


def test_fifo_order_and_wrap_around(device):
    bank = NNMemoryBank(size=5, feat_dim=5).to(device)
    rows = torch.eye(5, device=device)

    def labels(*values):
        return torch.tensor(values, device=device)

    bank.enqueue(rows[:3], labels(0, 1, 2))
    assert bank.ptr.item() == 3 and bank.num_filled.item() == 3
    # The size does not divide the batch: 3 + 3 wraps to the front.
    bank.enqueue(rows[[3, 4, 0]], labels(3, 4, 5))
    assert bank.ptr.item() == 1 and bank.num_filled.item() == 5
    assert bank.labels.tolist() == [5, 1, 2, 3, 4]
    assert torch.equal(bank.bank, rows[[0, 1, 2, 3, 4]])
    bank.enqueue(rows[[1, 2, 3, 4]], labels(6, 7, 8, 9))
    assert bank.ptr.item() == 0 and bank.num_filled.item() == 5
    assert bank.labels.tolist() == [5, 6, 7, 8, 9]


def test_rows_are_stored_l2_normalised():
    bank = NNMemoryBank(size=4, feat_dim=3)
    bank.enqueue(torch.tensor([[3.0, 4.0, 0.0], [0.0, 0.0, -2.0]]))
    torch.testing.assert_close(bank.bank[:2],
                               torch.tensor([[0.6, 0.8, 0.0],
                                             [0.0, 0.0, -1.0]]))


def test_empty_bank_returns_the_query_itself():
    bank = NNMemoryBank(size=8, feat_dim=3)
    z = torch.tensor([[2.0, 0.0, 0.0], [0.0, -1.0, 1.0]])
    neighbours, idx = bank.nearest(z)
    torch.testing.assert_close(neighbours, F.normalize(z, dim=1))
    assert idx.tolist() == [-1, -1]


def test_search_ignores_unfilled_rows():
    bank = NNMemoryBank(size=10, feat_dim=2)
    bank.enqueue(torch.tensor([[-1.0, 0.0], [0.0, -1.0]]))
    # The empty rows (zeros) would have cosine 0 > the filled rows' -0.7.
    _, idx = bank.nearest(torch.tensor([[1.0, 1.0]]))
    assert idx.item() in (0, 1)


def test_forward_searches_the_bank_as_before_the_update():
    bank = NNMemoryBank(size=8, feat_dim=3)
    old = torch.tensor([[1.0, 0.0, 0.0]])
    bank.enqueue(old)
    z = torch.tensor([[0.0, 1.0, 0.1]])
    out = bank(z, update=True)
    torch.testing.assert_close(out, old)
    assert bank.num_filled.item() == 2
    torch.testing.assert_close(bank.bank[1], F.normalize(z, dim=1)[0])


def test_neighbours_have_no_gradient():
    bank, _ = filled_bank()
    z = torch.randn(4, 8, requires_grad=True)
    assert not bank(z).requires_grad


def test_batch_larger_than_bank_is_an_error():
    bank = NNMemoryBank(size=4, feat_dim=2)
    with pytest.raises(ValueError, match=r'size \(4\).*global batch \(5\)'):
        bank.enqueue(torch.randn(5, 2))


def test_wrong_feature_width_is_an_error():
    bank = NNMemoryBank(size=4, feat_dim=2)
    with pytest.raises(ValueError, match=r'\(N, 2\).*feat_dim.*\(3, 5\)'):
        bank.nearest(torch.randn(3, 5))


@pytest.mark.parametrize('kwargs, culprit', [
    (dict(size=0, feat_dim=2), 'size'),
    (dict(size=-3, feat_dim=2), 'size'),
    (dict(size=4.0, feat_dim=2), 'size'),
    (dict(size=4, feat_dim=0), 'feat_dim'),
    (dict(size=4, feat_dim=2, topk=0), 'topk'),
    (dict(size=4, feat_dim=2, topk=5), 'topk'),
])
def test_bad_arguments_name_the_culprit(kwargs, culprit):
    with pytest.raises(ValueError, match=f'{culprit} must be'):
        NNMemoryBank(**kwargs)


def test_state_survives_save_and_load(device):
    bank, _ = filled_bank(batches=(16, 16, 30), device=device)
    state = bank.state_dict()
    assert set(state) == {'bank', 'labels', 'ptr', 'num_filled'}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    # Saved on the device, loaded on the CPU, moved back, as a resume does.
    restored = NNMemoryBank(50, 8)
    restored.load_state_dict(
        torch.load(buffer, map_location='cpu', weights_only=True))
    restored.to(device)
    for name in state:
        assert torch.equal(getattr(restored, name), state[name]), name
    # Both continue identically.
    z = torch.randn(7, 8).to(device)
    bank.enqueue(z)
    restored.enqueue(z)
    assert torch.equal(restored.bank, bank.bank)
    assert restored.ptr.item() == bank.ptr.item() == (62 + 7) % 50


def test_loading_another_bank_shape_is_a_clear_error():
    state = NNMemoryBank(32, 8).state_dict()
    with pytest.raises(ValueError, match=r'\(32, 8\).*\(50, 8\)'):
        NNMemoryBank(50, 8).load_state_dict(state)


def test_search_and_enqueue_under_autocast(device):
    # --amp's embeddings (float16 on CUDA, bfloat16 on the CPU) are
    # searched and stored in the float32 bank.
    dtype = AUTOCAST_DTYPE[device.type]
    bank = NNMemoryBank(32, 8).to(device)
    stored = torch.randn(32, 8).to(device)
    bank.enqueue(stored)
    picks = [3, 17, 30, 9]
    queries = (stored[picks] + 0.05 * torch.randn(4, 8).to(device)).to(dtype)
    with autocast(device):
        neighbours, idx = bank.nearest(queries)
        bank.enqueue(queries)
    assert idx.tolist() == brute_force_nearest(queries, stored).tolist()
    assert idx.tolist() == picks
    assert neighbours.dtype == dtype
    torch.testing.assert_close(neighbours,
                               F.normalize(stored[picks], dim=1).to(dtype))
    # The rows are normalised in fp32, from the values as given.
    assert bank.bank.dtype == torch.float32
    expected = queries.double() / queries.double().norm(dim=1, keepdim=True)
    torch.testing.assert_close(bank.bank[:4].double(), expected, rtol=0,
                               atol=1e-6)


def test_search_under_autocast_runs_in_fp32(device):
    # Key 1 is nearer by 3e-5 in cosine; in bf16 or fp16 both similarities
    # round to the same value and the first maximum, key 0, would win.
    dtype = AUTOCAST_DTYPE[device.type]
    query = torch.tensor([[1.0, 0.0]], device=device)
    bank = NNMemoryBank(2, 2).to(device)
    bank.enqueue(torch.tensor([[1.0, 0.01], [1.0, 0.005]], device=device))
    with autocast(device):
        sim, idx = chunked_topk_cosine(query, bank.bank, 1, 2)
        _, nearest = bank.nearest(query)
        rounded = (query.to(dtype) @ bank.bank.to(dtype).T)[0]
    assert sim.dtype == torch.float32
    assert idx.item() == nearest.item() == 1
    assert brute_force_nearest(query, bank.bank).item() == 1
    assert rounded[0] == rounded[1]  # the tie the fp32 search avoids
