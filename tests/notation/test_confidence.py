"""Confidence bands: from a calibration (confidence -> precision) to where shading changes."""

import json

import pytest

from clef_app.notation.confidence import (
    SHIPPED_BANDS,
    SHIPPED_CALIBRATION,
    ConfidenceBands,
    bands_from_calibration,
    read_bands,
)


def test_band_edges_are_where_the_precision_reaches_40_and_80_percent():
    bands = bands_from_calibration([0.1, 0.2, 0.3, 0.5], [0.2, 0.6, 0.7, 0.9])
    assert bands.doubtful_below == pytest.approx(0.15)  # 0.4 halfway from 0.2 to 0.6
    assert bands.confident_from == pytest.approx(0.4)  # 0.8 halfway from 0.7 to 0.9
    assert bands.doubtful(0.149) and not bands.doubtful(0.151)
    assert [bands.level(c) for c in (0.1, 0.15, 0.275, 0.4, 0.9)] == pytest.approx(
        [0.0, 0.0, 0.5, 1.0, 1.0])


def test_a_dip_in_the_measured_precision_does_not_move_an_edge_back():
    bands = bands_from_calibration([0.1, 0.2, 0.3, 0.4], [0.5, 0.3, 0.85, 0.8])
    assert bands.doubtful_below == 0.1  # already 0.5 at the lowest confidence
    assert bands.confident_from == pytest.approx(0.3 - 0.1 * 0.05 / 0.35)


def test_a_precision_never_reached_puts_the_edge_out_of_reach():
    bands = bands_from_calibration([0.1, 0.9], [0.1, 0.5])
    assert bands.confident_from > 1.0 and bands.level(1.0) < 1.0


@pytest.mark.parametrize("conf, prec", [([0.1], [0.5]), ([0.2, 0.1], [0.3, 0.6]),
                                        ([0.1, 0.2], [0.3])])
def test_a_malformed_calibration_is_refused(conf, prec):
    with pytest.raises(ValueError):
        bands_from_calibration(conf, prec)


def test_the_shipped_model_bands(tmp_path):
    # measured: a third of the shipped model's notes (right a third of the time) are doubtful
    assert 0.14 < SHIPPED_BANDS.doubtful_below < 0.16
    assert 0.35 < SHIPPED_BANDS.confident_from < 0.42
    assert SHIPPED_BANDS == bands_from_calibration(*SHIPPED_CALIBRATION)
    assert read_bands(None) == SHIPPED_BANDS


def test_read_from_a_checkpoint_config_or_fall_back(tmp_path):
    ckpt = tmp_path / "m.safetensors"
    assert read_bands(ckpt) == SHIPPED_BANDS  # no config at all
    config = tmp_path / "m.json"
    config.write_text(json.dumps({"format": "clef-checkpoint"}))
    assert read_bands(ckpt) == SHIPPED_BANDS  # no calibration
    config.write_text(json.dumps({"calibration": {"confidence": [0.2, 0.6],
                                                  "precision": [0.4, 0.8]}}))
    assert read_bands(ckpt) == ConfidenceBands(0.2, 0.6)
    config.write_text(json.dumps({"calibration": {"confidence": "x", "precision": 3}}))
    assert read_bands(ckpt) == SHIPPED_BANDS  # unreadable: the shipped bands, no crash
    config.write_text("{not json")
    assert read_bands(ckpt) == SHIPPED_BANDS
