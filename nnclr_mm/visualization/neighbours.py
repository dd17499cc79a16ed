from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

GREEN = (30, 160, 60)
RED = (210, 40, 40)
GREY = (200, 200, 200)


class GridLayout(NamedTuple):
    """The pixel layout of a :func:`neighbour_grid` image.

    Args:
        tile (int): Side of each image in pixels. Defaults to 64.
        border (int): Frame width. Defaults to 4.
        gap (int): Space between frames. Defaults to 6.
        title_height (int): Height of the title band. Defaults to 24.

    Examples:
        >>> layout = GridLayout()
        >>> layout.origin(0, 1)
        (84, 30)
        >>> layout.size(rows=2, cols=4)
        (318, 186)
    """
    tile: int = 64
    border: int = 4
    gap: int = 6
    title_height: int = 24

    @property
    def cell(self) -> int:
        """Pitch of the frames: a tile, its border and one gap."""
        return self.tile + 2 * self.border + self.gap

    def origin(self, row: int, col: int) -> Tuple[int, int]:
        """Top-left pixel ``(x, y)`` of the frame around tile (row, col);
        column 0 is the query."""
        return (self.gap + col * self.cell,
                self.title_height + self.gap + row * self.cell)

    def size(self, rows: int, cols: int) -> Tuple[int, int]:
        """``(width, height)`` of a grid of ``rows`` queries and ``cols``
        tiles per row, the query included: where a tile past the last
        would start."""
        return self.origin(rows, cols)


def _to_tile(image: np.ndarray, size: int) -> Image.Image:
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return Image.fromarray(image.astype(np.uint8)).convert('RGB').resize(
        (size, size), Image.NEAREST)


def neighbour_grid(queries: Sequence[np.ndarray],
                   neighbours: Sequence[Sequence[np.ndarray]],
                   out: str,
                   query_labels: Optional[Sequence[int]] = None,
                   neighbour_labels: Optional[Sequence[Sequence[int]]] = None,
                   title: str = 'nearest neighbours',
                   layout: Optional[GridLayout] = None) -> Optional[float]:
    """Write a PNG grid: each row a query, then its nearest neighbours.

    As in the NNCLR paper's figures of support-set neighbours. When labels
    are given, each neighbour gets a green frame if its class is the
    query's and a red one otherwise, and the title reports the fraction of
    green frames; the query's frame is grey.

    Args:
        queries (Sequence[ndarray]): HxWx3 (or HxW) uint8 images, RGB.
        neighbours (Sequence[Sequence[ndarray]]): The k neighbours of each
            query, nearest first.
        out (str): PNG path.
        query_labels (Sequence[int], optional): Labels of the queries.
        neighbour_labels (Sequence[Sequence[int]], optional): Labels of the
            neighbours.
        title (str): Title text. Defaults to ``'nearest neighbours'``.
        layout (GridLayout, optional): Tile size, frames and gaps.
            Defaults to ``GridLayout()``.

    Returns:
        float or None: The neighbour accuracy, when labels are given.
    """
    rows, cols = len(queries), 1 + len(neighbours[0])
    labelled = query_labels is not None and neighbour_labels is not None
    same: List[List[bool]] = []
    if labelled:
        same = [[int(n) == int(q) for n in ns]
                for q, ns in zip(query_labels, neighbour_labels)]
    accuracy = float(np.mean(same)) if labelled else None
    if accuracy is not None:
        title = f'{title} - neighbour accuracy {100 * accuracy:.1f}%'

    layout = layout or GridLayout()
    tile, border, gap = layout.tile, layout.border, layout.gap
    canvas = Image.new('RGB', layout.size(rows, cols), 'white')
    draw = ImageDraw.Draw(canvas)
    draw.text((gap, gap // 2), title, fill='black')
    for row in range(rows):
        images = [queries[row], *neighbours[row]]
        for col, image in enumerate(images):
            x, y = layout.origin(row, col)
            colour = GREY
            if labelled and col > 0:
                colour = GREEN if same[row][col - 1] else RED
            draw.rectangle([x, y, x + tile + 2 * border - 1,
                            y + tile + 2 * border - 1], fill=colour)
            canvas.paste(_to_tile(image, tile), (x + border, y + border))
    canvas.save(out)
    return accuracy


def raw_image(dataset, index: int) -> np.ndarray:
    """The image of sample ``index`` before any transform, HxWx3 RGB.

    Args:
        dataset (BaseDataset): An mmengine dataset whose data infos hold
            the decoded ``img`` or an ``img_path``.
        index (int): The sample.

    Returns:
        ndarray: The uint8 image.
    """
    import mmcv
    info = dataset.get_data_info(index)
    if 'img' in info:
        return info['img']
    return mmcv.imread(info['img_path'], channel_order='rgb')
