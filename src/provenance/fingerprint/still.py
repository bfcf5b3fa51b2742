"""Perceptual hashes of one picture: the ISCC Image-Code soft hash, over several crops.

The hash is ISO 24138's image soft hash (`io.iscc.v0` in C2PA's soft-binding list):
32×32 grey → 2-D DCT → for each 8×8 block of the low 16×16 coefficients, one bit per
coefficient above the block's median; 256 bits. It is computed here with numpy (one
matrix product instead of iscc-core's per-row Python DCT) and is bit-identical to
`iscc_core.soft_hash_image_v0(pixels, bits=256)` (tests/memory check that).
Chosen by measurement (bench/fingerprint.py, bench/README.md): it survives re-encoding,
resizing, grading and format conversion well inside the threshold, and 256 bits keep
unrelated pictures far apart.

One global DCT hash does not survive cropping (5 % a side moves it ~10 of 64 bits), so
`crop_variants` hashes the picture also as if it had been cropped: 3 and 6 % on every
side, on each single side, and on each pair of adjacent sides. A derivative's full-picture
hash then lands near the variant closest to how it was cropped. Only the stored side
needs variants; a query uses its full-picture hash.

Black letterbox/pillarbox bars are trimmed first, so a still padded to 16:9 or UHD hashes
as the picture inside the bars.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

BITS = 256
HASH_SIDE = 32
# ITU-R BT.601 luma, as Pillow's convert("L") and ISCC's reference normalisation use.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# A row or column is part of a bar when almost all of it is black (codec noise allowed).
_BAR_LEVEL = 0.09
_BAR_SHARE = 0.98
_MAX_BAR = 0.45  # at most this share of a side (a 9:16 picture pillarboxed in 16:9 has 34 %)

FLAT_STD = 0.02  # grey standard deviation (0..1) below which a picture has no identity

# (left, top, right, bottom) shares cut off; the first is the picture itself.
Crop = tuple[float, float, float, float]


def _cut(share: float, sides: tuple[int, ...]) -> Crop:
    left, top, right, bottom = (share if i in sides else 0.0 for i in range(4))
    return (left, top, right, bottom)


_SHARES = (0.03, 0.06)
CROPS: tuple[Crop, ...] = (
    (0.0, 0.0, 0.0, 0.0),
    *(_cut(c, (0, 1, 2, 3)) for c in _SHARES),
    *(_cut(c, (side,)) for c in _SHARES for side in range(4)),
    *(_cut(c, pair) for c in _SHARES for pair in ((0, 1), (1, 2), (2, 3), (3, 0))),
)


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    return np.cos(np.pi * (2 * i + 1) * k / (2 * n)).astype(np.float64)


_DCT = _dct_matrix(HASH_SIDE)
_BLOCKS = ((0, 0), (8, 0), (0, 8), (8, 8))  # (x, y) of the 8×8 blocks, ISCC's order


def luma(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb @ _LUMA, dtype=np.float32)


def trim_bars(grey: np.ndarray) -> np.ndarray:
    """The picture inside black letterbox/pillarbox bars (unchanged when there are none)."""
    height, width = grey.shape
    dark = grey <= _BAR_LEVEL
    dark_rows = dark.mean(axis=1) >= _BAR_SHARE
    dark_cols = dark.mean(axis=0) >= _BAR_SHARE

    def run(flags: np.ndarray, limit: int) -> int:
        n = 0
        while n < limit and flags[n]:
            n += 1
        return n if n < limit else 0

    top = run(dark_rows, int(height * _MAX_BAR))
    bottom = run(dark_rows[::-1], int(height * _MAX_BAR))
    left = run(dark_cols, int(width * _MAX_BAR))
    right = run(dark_cols[::-1], int(width * _MAX_BAR))
    return grey[top:height - bottom, left:width - right]


def soft_hash(pixels32: np.ndarray) -> int:
    """ISCC image soft hash (256 bits) of 32×32 grey pixels, as an int (MSB = first bit)."""
    coefficients = _DCT @ pixels32 @ _DCT.T  # rows: vertical frequency, cols: horizontal
    blocks = np.stack([coefficients[y:y + 8, x:x + 8].ravel() for x, y in _BLOCKS])
    bits = blocks > np.median(blocks, axis=1, keepdims=True)
    return int.from_bytes(np.packbits(bits.ravel()).tobytes(), "big")


def crop_variants(grey: np.ndarray,
                  crops: tuple[Crop, ...] = CROPS) -> list[int]:
    """The soft hash of the picture (32×32 bicubic, as ISCC normalises) and of each crop."""
    img = Image.fromarray(np.clip(grey * 255.0, 0, 255).astype(np.uint8), mode="L")
    # Crops are taken from a 128-pixel copy: bicubic from 512 costs 16× more for the same bits.
    img = img.reduce(max(1, min(img.size) // (HASH_SIDE * 4)))
    width, height = img.size
    out = []
    for left, top, right, bottom in crops:
        box = (round(left * width), round(top * height),
               width - round(right * width), height - round(bottom * height))
        small = img.resize((HASH_SIDE, HASH_SIDE), Image.Resampling.BICUBIC, box=box)
        out.append(soft_hash(np.asarray(small, dtype=np.float64)))
    return out


def hashes(rgb: np.ndarray, variants: bool = True) -> list[int]:
    """Bars trimmed, then the picture's hash (first) and, if asked, its crop variants.

    Empty for a flat picture (black, one colour): its DCT is noise around zero, so every
    flat frame of every video would "match" every other one (PDQ discards such hashes too).
    """
    grey = trim_bars(luma(rgb))
    if float(grey.std()) < FLAT_STD:
        return []
    return crop_variants(grey) if variants else crop_variants(grey, CROPS[:1])


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()
