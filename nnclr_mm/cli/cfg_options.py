"""``--cfg-options`` keys checked against the config before it is merged.

mmengine merges an unknown key as a new one, so ``model.memory_bank.szie``
or ``train_cfg.max_epoch`` is accepted and then ignored, or fails far from
its cause. A key the config lacks but a sibling key spells within one or
two edits is refused, naming both; other new keys still merge (configs
gain keys this way) after one notice that lists them.
"""
import logging
from typing import Iterable, List, Optional

from mmengine.config import Config


def edit_distance(a: str, b: str) -> int:
    """Insertions, deletions, substitutions and swaps of two neighbouring
    characters that turn ``a`` into ``b`` (optimal string alignment).

    Examples:
        >>> edit_distance('szie', 'size'), edit_distance('epoch', 'epochs')
        (1, 1)
    """
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1,
                           rows[-1][j - 1] + (ca != cb)))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _near(key: str, siblings: Iterable[str]) -> Optional[str]:
    """The sibling ``key`` is a likely typo of, if any."""
    allowed = 1 if len(key) <= 5 else 2
    near = [(edit_distance(key, s), s) for s in siblings
            if isinstance(s, str)]
    near = [(d, s) for d, s in near if d <= allowed]
    return min(near)[1] if near else None


def new_keys(cfg: Config, options: dict) -> List[str]:
    """The keys of ``options`` that ``cfg`` does not have.

    Args:
        cfg (Config): The config the options go into.
        options (dict): ``--cfg-options`` as parsed (dotted keys).

    Returns:
        list[str]: The new keys, as given.

    Raises:
        ValueError: If a new key's first missing part is within one edit (two
            for names longer than five letters) of a key beside it, naming
            both.
    """
    added = []
    for dotted in options:
        node = cfg
        parts = dotted.split('.')
        for depth, part in enumerate(parts):
            if isinstance(node, (list, tuple)) and part.isdigit():
                node = node[int(part)] if int(part) < len(node) else None
                continue
            if not hasattr(node, 'keys'):
                break  # a value or None is replaced whole
            if part not in node:
                path = '.'.join(parts[:depth])
                near = _near(part, node.keys())
                if near is not None:
                    where = f'{path}.' if path else ''
                    raise ValueError(
                        f'--cfg-options {dotted}: the config has no '
                        f'{where}{part} but has {where}{near}; did you mean '
                        f'{where}{near}? (A new key this close to an existing '
                        'one is refused; set it in a config that inherits '
                        'this one.)')
                added.append(dotted)
                break
            node = node[part]
    return added


def merge_cfg_options(cfg: Config, options: dict) -> None:
    """Merge ``options`` into ``cfg`` after :func:`new_keys` checked them,
    with one notice listing the keys they add.

    Args:
        cfg (Config): The config, changed in place.
        options (dict): ``--cfg-options`` as parsed.
    """
    from mmengine.logging import print_log
    added = new_keys(cfg, options)
    if added:
        print_log('--cfg-options adds keys the config does not have: '
                  f'{", ".join(added)}', logger='current',
                  level=logging.WARNING)
    cfg.merge_from_dict(options)
