"""The SPSC ring buffer: order across the wrap, overflow accounting, a real second thread."""

import threading

import numpy as np
import pytest

from clef_app.audio.ringbuffer import RingBuffer


def test_frames_come_out_in_order_across_the_wrap():
    ring = RingBuffer(10)
    ring.write(np.arange(7, dtype=np.float32))
    assert ring.read(5)[:, 0].tolist() == [0, 1, 2, 3, 4]
    ring.write(np.arange(7, 14, dtype=np.float32))  # wraps: 2 left + 7 new = 9 <= 10
    assert ring.available == 9
    assert ring.read()[:, 0].tolist() == list(range(5, 14))
    assert ring.available == 0 and ring.read().shape == (0, 1)
    assert ring.overflows == 0


def test_overflow_drops_the_newest_and_counts():
    ring = RingBuffer(8, channels=2)
    block = np.arange(12, dtype=np.float32).reshape(6, 2)
    assert ring.write(block) == 6
    assert ring.write(block) == 2  # only 2 frames were free
    assert (ring.overflows, ring.dropped_frames) == (1, 4)
    out = ring.read()
    assert out.shape == (8, 2)
    np.testing.assert_array_equal(out[:6], block)
    np.testing.assert_array_equal(out[6:], block[:2])


def test_arrival_time_of_a_frame():
    ring = RingBuffer(1000)
    ring.write(np.zeros(480, np.float32), timestamp=100.0)
    assert ring.arrival_time(480, 48_000) == pytest.approx(100.0)
    assert ring.arrival_time(0, 48_000) == pytest.approx(100.0 - 0.01)


def test_a_producer_thread_and_a_consumer_lose_nothing():
    ring = RingBuffer(4096)
    blocks, size = 400, 256
    got: list[np.ndarray] = []

    def produce() -> None:
        for k in range(blocks):
            frames = np.arange(k * size, (k + 1) * size, dtype=np.float32)
            while ring.capacity - ring.available < size:  # a real callback would drop; wait here
                pass
            ring.write(frames)

    thread = threading.Thread(target=produce)
    thread.start()
    while thread.is_alive() or ring.available:
        got.append(ring.read()[:, 0])
    thread.join()
    out = np.concatenate(got)
    np.testing.assert_array_equal(out, np.arange(blocks * size, dtype=np.float32))
    assert ring.overflows == 0
