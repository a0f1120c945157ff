"""The training workloads: the digits, and two on images bundled with scikit-image (no download).

``digits``    scikit-learn's 8x8 handwritten digits: black backgrounds, so zero padding is the
              natural one and every padding mode sees the same zeros near the border.
``denoise``   8x8 tiles of eight grayscale photographs and textures (camera, astronaut, coffee,
              coins, brick, grass, gravel, immunohistochemistry) with Gaussian noise (sigma 0.1
              of the [0, 1] intensity); the network outputs the clean tile, scored by PSNR over
              every pixel, borders included. A border pixel's estimate needs its neighbours
              beyond the border: the padding's content enters the score directly.
``textures``  8x8 tiles of ten of those images (brick, grass, gravel, camera, coins, text, page,
              astronaut, coffee and immunohistochemistry), one class each, every tile normalized
              on its own (mean 0, std 1) so that brightness does not give the class away.

A workload is its data, the training schedule it was tuned with and its score
(:data:`WORKLOADS`); the network is the conv layer of :mod:`golden.train` with a classifier or
a denoising head.
"""

from dataclasses import dataclass

import numpy as np

from ._check import check_choice

__all__ = ["TEXTURE_IMAGES", "DENOISE_IMAGES", "Workload", "WORKLOADS", "load_textures",
           "load_denoise", "load_workload"]

#: scikit-image's bundled images used as texture classes, in class order
TEXTURE_IMAGES = ("brick", "grass", "gravel", "camera", "coins", "text", "page", "astronaut",
                  "coffee", "immunohistochemistry")


#: the images whose tiles the denoising workload cleans
DENOISE_IMAGES = ("camera", "astronaut", "coffee", "coins", "brick", "grass", "gravel",
                  "immunohistochemistry")


def _gray(name):
    import skimage.data
    image = getattr(skimage.data, name)()
    if image.ndim == 3:   # RGB: ITU-R BT.709 luma, as skimage.color.rgb2gray
        return image[..., :3].astype(np.float64) @ np.array([0.2125, 0.7154, 0.0721]) / 255.0
    return image.astype(np.float64) / 255.0


def _tiles(image, tile):
    rows, cols = image.shape[0] // tile, image.shape[1] // tile
    return (image[:rows * tile, :cols * tile].reshape(rows, tile, cols, tile)
            .swapaxes(1, 2).reshape(-1, tile, tile))


def load_denoise(split_seed=0, *, tile=8, train_per_image=500, test_per_image=150, sigma=0.1):
    """Denoising pairs: ``(noisy_train, clean_train, noisy_test, clean_test)``, each of shape
    ``(N, 1, tile, tile)``, intensities in [0, 1] minus 0.5 (zero is mid-gray; PSNR's peak is 1).

    Per image, ``test_per_image`` random non-overlapping tiles are held out and
    ``train_per_image`` of the rest train; the noise is drawn once, from ``split_seed``.
    """
    rng = np.random.default_rng(split_seed)
    train, test = [], []
    for name in DENOISE_IMAGES:
        tiles = _tiles(_gray(name), tile)
        if len(tiles) < train_per_image + test_per_image:
            raise ValueError(f"{name} has {len(tiles)} tiles, fewer than "
                             f"{train_per_image + test_per_image}")
        tiles = tiles[rng.permutation(len(tiles))]
        test.append(tiles[:test_per_image])
        train.append(tiles[test_per_image:test_per_image + train_per_image])
    clean_train = np.concatenate(train)[:, None] - 0.5
    clean_test = np.concatenate(test)[:, None] - 0.5
    noisy_train = clean_train + rng.normal(0.0, sigma, clean_train.shape)
    noisy_test = clean_test + rng.normal(0.0, sigma, clean_test.shape)
    return noisy_train, clean_train, noisy_test, clean_test


def load_textures(split_seed=0, *, tile=8, train_per_class=400, test_per_class=220,
                  min_std=0.02):
    """Texture tiles: ``(x_train, y_train, x_test, y_test)``, ``x`` of shape ``(N, 1, tile, tile)``.

    Every image is cut into non-overlapping tiles; flat tiles (std <= ``min_std`` of the [0, 1]
    intensity) are dropped, as they hold no texture. Per image, ``test_per_class`` random tiles
    are held out and ``train_per_class`` of the rest train, so no pixel is in both sets.
    """
    rng = np.random.default_rng(split_seed)
    x_train, y_train, x_test, y_test = [], [], [], []
    for label, name in enumerate(TEXTURE_IMAGES):
        tiles = _tiles(_gray(name), tile)
        tiles = tiles[tiles.std(axis=(1, 2)) > min_std]
        tiles = tiles[rng.permutation(len(tiles))]
        if len(tiles) < train_per_class + test_per_class:
            raise ValueError(f"{name} has {len(tiles)} textured tiles, fewer than "
                             f"{train_per_class + test_per_class}")
        x_test.append(tiles[:test_per_class])
        x_train.append(tiles[test_per_class:test_per_class + train_per_class])
        y_test += [label] * test_per_class
        y_train += [label] * train_per_class
    x_train, x_test = np.concatenate(x_train)[:, None], np.concatenate(x_test)[:, None]

    def normalize(x):
        return ((x - x.mean(axis=(2, 3), keepdims=True))
                / (x.std(axis=(2, 3), keepdims=True) + 1e-3))

    return (normalize(x_train), np.array(y_train, dtype=np.int64),
            normalize(x_test), np.array(y_test, dtype=np.int64))


def _digits():
    from .train import load_digits
    return load_digits()


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    #: TrainConfig fields the workload was tuned with (the rest are TrainConfig's defaults)
    schedule: dict
    loader: object
    #: the held-out score: "accuracy" (percent) or "psnr_db"
    metric: str = "accuracy"

    def load(self):
        return self.loader()


WORKLOADS = {
    "digits": Workload("digits", "scikit-learn digits, 8x8, 10 classes", {}, _digits),
    "denoise": Workload("denoise", "scikit-image photo tiles, 8x8, Gaussian noise 0.1",
                        {"learning_rate": 0.1, "epochs": 10}, load_denoise, "psnr_db"),
    # a smaller step and larger batches than the digits': at theirs the runs scatter more
    "textures": Workload("textures", "scikit-image texture tiles, 8x8, 10 classes",
                         {"learning_rate": 0.01, "batch": 64, "epochs": 30}, load_textures),
}


def load_workload(name):
    """``(workload, data)`` of a workload named in :data:`WORKLOADS`."""
    check_choice("workload", name, tuple(WORKLOADS))
    workload = WORKLOADS[name]
    return workload, workload.load()
