"""Streaming resampling equals scipy's resample_poly over the whole signal; so does
`audio.io.resample`, which resamples in blocks a cancel can stop between."""

from math import gcd

import numpy as np
import pytest
from scipy.signal import resample_poly

from clef_app.audio.io import RESAMPLE_BLOCK, resample
from clef_app.audio.resampler import StreamResampler
from clef_app.notation.steps import Cancelled, stop_when


@pytest.mark.parametrize("from_rate,to_rate", [(44_100, 16_000), (48_000, 16_000),
                                               (22_050, 16_000), (16_000, 44_100)])
def test_blocks_of_any_size_give_the_whole_signal_result(from_rate, to_rate):
    rng = np.random.default_rng(from_rate)
    x = rng.standard_normal(20_000).astype(np.float32)
    r = StreamResampler(from_rate, to_rate)
    out, i = [], 0
    while i < len(x):
        k = int(rng.integers(1, 2500))
        out.append(r.push(x[i : i + k]))
        i += k
    out.append(r.flush())
    y = np.concatenate(out)
    ref = resample_poly(x.astype(np.float64), r.up, r.down)
    assert len(y) == len(ref)
    np.testing.assert_allclose(y, ref, atol=1e-5)


def test_output_is_never_ahead_of_the_input():
    r = StreamResampler(48_000, 16_000)
    produced = sum(len(r.push(np.ones(480, np.float32))) for _ in range(100))  # 1 s
    assert 16_000 - 40 <= produced <= 16_000  # only the filter's look-ahead is held back


def test_same_rate_passes_through():
    r = StreamResampler(16_000, 16_000)
    x = np.arange(5, dtype=np.float32)
    np.testing.assert_array_equal(r.push(x), x)
    assert r.flush().size == 0


@pytest.mark.parametrize("n", [1, 999, RESAMPLE_BLOCK, 2 * RESAMPLE_BLOCK + 17])
@pytest.mark.parametrize("from_rate,to_rate", [(44_100, 16_000), (32_000, 44_100),
                                               (96_000, 48_000)])
def test_resample_in_blocks_gives_resample_polys_result(n, from_rate, to_rate):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    g = gcd(from_rate, to_rate)
    ref = resample_poly(x, to_rate // g, from_rate // g)
    y = resample(x, from_rate, to_rate)
    assert y.dtype == np.float32 and len(y) == len(ref)
    np.testing.assert_allclose(y, ref, atol=1e-5)


def test_a_cancel_stops_a_long_resampling_within_a_block():
    x = np.zeros(20 * RESAMPLE_BLOCK, dtype=np.float32)  # 30 s at 44.1 kHz
    assert len(resample(x, 44_100, 16_000)) == -(-len(x) * 160 // 441)  # (SciPy imported)
    looks = []

    def cancelled() -> bool:
        looks.append(1)
        return len(looks) > 3  # asked to stop once three blocks are done

    with stop_when(cancelled), pytest.raises(Cancelled):
        resample(x, 44_100, 16_000)
    assert len(looks) == 4  # it looked before every block and stopped at the first "yes"
