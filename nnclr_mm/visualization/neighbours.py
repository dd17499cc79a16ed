from typing import List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

GREEN = (30, 160, 60)
RED = (210, 40, 40)
GREY = (200, 200, 200)


def grid_geometry(rows: int, cols: int, tile: int, border: int, gap: int,
                  title_height: int) -> Tuple[int, int]:
    """Width and height in pixels of a :func:`neighbour_grid` image.

    Args:
        rows (int): Number of queries.
        cols (int): Tiles per row, the query included.
        tile (int): Side of each image in pixels.
        border (int): Frame width.
        gap (int): Space between frames.
        title_height (int): Height of the title band.

    Returns:
        tuple[int, int]: ``(width, height)``.
    """
    cell = tile + 2 * border + gap
    return gap + cols * cell, title_height + gap + rows * cell


def tile_origin(row: int, col: int, tile: int, border: int, gap: int,
                title_height: int) -> Tuple[int, int]:
    """Top-left pixel (x, y) of the frame around tile (row, col).

    Args:
        row (int): The query's row.
        col (int): The column, 0 for the query.
        tile (int): Side of each image in pixels.
        border (int): Frame width.
        gap (int): Space between frames.
        title_height (int): Height of the title band.

    Returns:
        tuple[int, int]: ``(x, y)``.
    """
    cell = tile + 2 * border + gap
    return gap + col * cell, title_height + gap + row * cell


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
                   tile: int = 64,
                   border: int = 4,
                   gap: int = 6,
                   title_height: int = 24) -> Optional[float]:
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
        tile (int): Side of each image in pixels. Defaults to 64.
        border (int): Frame width. Defaults to 4.
        gap (int): Space between frames. Defaults to 6.
        title_height (int): Height of the title band. Defaults to 24.

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

    canvas = Image.new(
        'RGB', grid_geometry(rows, cols, tile, border, gap, title_height),
        'white')
    draw = ImageDraw.Draw(canvas)
    draw.text((gap, gap // 2), title, fill='black')
    for row in range(rows):
        images = [queries[row], *neighbours[row]]
        for col, image in enumerate(images):
            x, y = tile_origin(row, col, tile, border, gap, title_height)
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
