"""Plain-loop references, written independently of golden/: one pixel, one tap at a time.

Slow on purpose; only for small shapes in tests.
"""


def source_index(i, size, before, mode):
    """Source index along one axis for padded position ``i``, or None for a constant pixel."""
    j = i - before
    if 0 <= j < size:
        return j
    if mode in ("zero", "constant"):
        return None
    if mode == "replicate":
        return 0 if j < 0 else size - 1
    if mode == "reflect":
        # mirror about the edge pixel, which itself is not repeated
        while j < 0 or j >= size:
            j = -j if j < 0 else 2 * (size - 1) - j
        return j
    raise ValueError(mode)


def padded_pixel(frame, i, j, pads, mode, pad_value):
    """Value of padded pixel (i, j) of a 2-D list-like ``frame``."""
    top, bottom, left, right = pads
    h, w = len(frame), len(frame[0])
    r = source_index(i, h, top, mode)
    c = source_index(j, w, left, mode)
    if r is None or c is None:
        return pad_value if mode == "constant" else 0
    return frame[r][c]


def is_padding(i, j, h, w, pads):
    top, _, left, _ = pads
    return not (top <= i < top + h and left <= j < left + w)


def conv_reference(x, w, bias, stride, pads, mode, pad_value, mask, block):
    """x: [N][C][H][W] nested lists; w: [Co][C][K][K]; mask: 2-D list of 0/1 or None.

    Returns [N][Co][Ho][Wo] Python numbers.
    """
    top, bottom, left, right = pads
    n_img, cin = len(x), len(x[0])
    h, wd = len(x[0][0]), len(x[0][0][0])
    cout, k = len(w), len(w[0][0])
    hp, wp = h + top + bottom, wd + left + right
    ho, wo = (hp - k) // stride + 1, (wp - k) // stride + 1
    out = []
    for n in range(n_img):
        planes = []
        for co in range(cout):
            rows = []
            for oy in range(ho):
                row = []
                for ox in range(wo):
                    acc = 0 if bias is None else bias[co]
                    for c in range(cin):
                        for ky in range(k):
                            for kx in range(k):
                                i, j = oy * stride + ky, ox * stride + kx
                                if (is_padding(i, j, h, wd, pads) and mask is not None
                                        and not mask[i // block][j // block]):
                                    continue
                                acc += w[co][c][ky][kx] * padded_pixel(x[n][c], i, j, pads, mode,
                                                                       pad_value)
                    row.append(acc)
                rows.append(row)
            planes.append(rows)
        out.append(planes)
    return out
