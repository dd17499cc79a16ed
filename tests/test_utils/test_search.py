"""The chunked cosine search that the support set, the kNN evaluation and
the neighbour pictures share."""
import pytest
import torch
import torch.nn.functional as F

from nnclr_mm.utils import chunked_topk_cosine
from nnclr_mm.utils.search import _similarity_blocks


@pytest.mark.parametrize('k', [1, 4])
@pytest.mark.parametrize('chunk_elems', [1, 30, 10**6])
def test_chunked_topk_equals_dense_topk(chunk_elems, k, device):
    queries = F.normalize(torch.randn(6, 5), dim=1).to(device)
    keys = F.normalize(torch.randn(40, 5), dim=1).to(device)
    sim, idx = chunked_topk_cosine(queries, keys, k, chunk_elems)
    dense_sim, dense_idx = (queries @ keys.T).topk(k, dim=1)
    assert torch.equal(idx, dense_idx)
    torch.testing.assert_close(sim, dense_sim)


def test_similarity_blocks_share_one_buffer():
    queries, keys = torch.randn(5, 4), torch.randn(23, 4)
    starts, pointers = [], set()
    for start, block in _similarity_blocks(queries, keys, chunk=10):
        torch.testing.assert_close(block, queries @ keys[start:start + 10].T)
        starts.append(start)
        pointers.add(block.data_ptr())
    assert starts == [0, 10, 20]  # the last block is partial: 3 keys
    assert len(pointers) == 1


def test_search_of_inputs_that_require_grad():
    queries = F.normalize(torch.randn(6, 4), dim=1).requires_grad_()
    keys = F.normalize(torch.randn(9, 4), dim=1)
    for k in (1, 3):
        sim, idx = chunked_topk_cosine(queries, keys, k, 10)
        expected_sim, expected_idx = (queries @ keys.T).topk(k, dim=1)
        assert not sim.requires_grad
        torch.testing.assert_close(sim, expected_sim.detach())
        assert torch.equal(idx, expected_idx)
