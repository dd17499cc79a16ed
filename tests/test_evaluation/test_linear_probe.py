"""fit_linear_probe against the optimality conditions of its objective,
written out by hand."""
import torch

from nnclr_mm.evaluation import fit_linear_probe


def blobs(num, num_classes=3, dim=6, shift=4.0, seed=0):
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(num_classes, (num, ), generator=gen)
    centres = shift * torch.eye(num_classes, dim)
    # Scales and offsets unlike a standardised input, to test the folding.
    scale = torch.linspace(0.1, 10.0, dim)
    feats = (torch.randn(num, dim, generator=gen) + centres[labels]) * scale
    return feats + 5.0, labels


def test_probe_is_the_minimiser_of_its_objective():
    feats, labels = blobs(400)
    weight_decay = 1e-2
    probe = fit_linear_probe(feats, labels, 3, weight_decay=weight_decay)
    # On standardised x: logits = W x + b, with W = probe.weight * std.
    x64 = feats.double()
    mean, std = x64.mean(0), x64.std(0)
    standardised = (x64 - mean) / std
    weight = probe.weight.double() * std
    with torch.no_grad():
        logits = probe(feats).double()
    # The folded probe gives the standardised-space logits.
    torch.testing.assert_close(
        logits, standardised @ weight.T + probe.bias.double() +
        (weight / std) @ mean, rtol=0, atol=1e-4)
    # Gradient of mean CE + 0.5 wd ||W||^2, by hand: (softmax - onehot) x.
    residual = logits.softmax(1) - torch.eye(3, dtype=torch.double)[labels]
    grad_weight = residual.T @ standardised / len(feats) + weight_decay * \
        weight
    grad_bias = residual.mean(0)
    assert grad_weight.abs().max() < 1e-4
    assert grad_bias.abs().max() < 1e-4
    # At the start (zero weights) the same gradient is far from 0.
    start = (torch.full_like(logits, 1 / 3) -
             torch.eye(3, dtype=torch.double)[labels])
    assert (start.T @ standardised / len(feats)).abs().max() > 0.1


def test_probe_generalises_only_from_informative_features(device):
    feats, labels = (x.to(device) for x in blobs(1000))
    test_feats, test_labels = (x.to(device) for x in blobs(1000, seed=1))
    probe = fit_linear_probe(feats, labels, 3)
    accuracy = (probe(test_feats).argmax(1) == test_labels).float().mean()
    # Bayes accuracy of these blobs is above 0.99; labels shuffled away
    # from the features leave chance (1/3).
    assert accuracy > 0.95
    shuffled = labels[torch.randperm(1000, generator=torch.Generator()
                                     .manual_seed(2))]
    probe = fit_linear_probe(feats, shuffled, 3)
    accuracy = (probe(test_feats).argmax(1) == test_labels).float().mean()
    assert accuracy < 0.45


def test_probe_equals_scikit_learns_logistic_regression():
    from sklearn.linear_model import LogisticRegression
    feats, labels = blobs(300, shift=1.0)  # overlapping: a finite optimum
    weight_decay = 1e-2
    probe = fit_linear_probe(feats, labels, 3, weight_decay=weight_decay)
    x = feats.double()
    standardised = ((x - x.mean(0)) / x.std(0)).numpy()
    # sklearn: 0.5 ||W||^2 + C * sum CE, i.e. ours with C = 1 / (wd N).
    reference = LogisticRegression(C=1 / (weight_decay * len(feats)),
                                   tol=1e-10, max_iter=10000)
    reference.fit(standardised, labels.numpy())
    # Coefficients of order 1, fitted in fp32.
    torch.testing.assert_close(probe.weight.double() * x.std(0),
                               torch.from_numpy(reference.coef_),
                               rtol=0, atol=1e-3)
