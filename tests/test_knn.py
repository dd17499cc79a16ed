import math

import pytest
import torch

from nnclr_mm.evaluation import weighted_knn_scores


def test_weighted_knn_on_a_hand_made_feature_set():
    # Bank on the unit circle: class 0 near 0 degrees, class 1 near 90.
    angles = torch.tensor([0.0, 10.0, 80.0, 90.0, 100.0]) * math.pi / 180
    bank = torch.stack([angles.cos(), angles.sin()], 1)
    labels = torch.tensor([0, 0, 1, 1, 1])
    query = torch.tensor([[math.cos(0.5), math.sin(0.5)]])  # ~28.6 degrees
    k, tau = 3, 0.5
    scores = weighted_knn_scores(query, bank, labels, 2, k=k, temperature=tau)
    # By hand: the 3 nearest are at 10, 0 and 80 degrees.
    sims = {d: math.cos(0.5 - d * math.pi / 180) for d in (0, 10, 80)}
    w0 = math.exp(sims[0] / tau) + math.exp(sims[10] / tau)
    w1 = math.exp(sims[80] / tau)
    expected = torch.tensor([[w0, w1]]) / (w0 + w1)
    torch.testing.assert_close(scores, expected)


def test_temperature_sharpens_votes():
    bank = torch.eye(3)
    labels = torch.tensor([0, 1, 1])
    query = torch.tensor([[1.0, 0.9, 0.0]])
    # Two class-1 votes outweigh one closer class-0 vote at high T only.
    hot = weighted_knn_scores(query, bank, labels, 2, k=3, temperature=10.0)
    cold = weighted_knn_scores(query, bank, labels, 2, k=3, temperature=0.01)
    assert hot.argmax().item() == 1 and cold.argmax().item() == 0


def test_k_larger_than_bank_uses_the_whole_bank():
    scores = weighted_knn_scores(torch.ones(1, 2), torch.eye(2),
                                 torch.tensor([0, 1]), 2, k=200)
    torch.testing.assert_close(scores, torch.tensor([[0.5, 0.5]]))


def test_bad_temperature_names_the_argument():
    with pytest.raises(ValueError, match='temperature must be > 0'):
        weighted_knn_scores(torch.ones(1, 2), torch.eye(2),
                            torch.tensor([0, 1]), 2, temperature=0)
