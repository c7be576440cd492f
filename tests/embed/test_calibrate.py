"""`--backend auto` by measurement: the fastest accurate backend, measured once per CPU and cached."""

from __future__ import annotations

import time

import numpy as np
import pytest

import qa.embed.calibrate as calibrate
from qa.embed.calibrate import BASELINE, GATE_COSINE, calibrated_backend, choose, sample


class Reference:
    name, dim = "m", 4

    def embed(self, texts, progress=None):
        return np.tile(np.array([1.0, 0.0, 0.0, 0.0], np.float32), (len(texts), 1))


class Runtime:
    """Pretends to embed: `delay` seconds a call, vectors `tilt` away from the reference's."""

    def __init__(self, delay: float, tilt: float = 0.0, fails: bool = False) -> None:
        self.delay, self.tilt, self.fails = delay, tilt, fails

    def embed_with_spans(self, texts, spans):
        if self.fails:
            raise RuntimeError("cannot run here")
        time.sleep(self.delay)
        vector = np.array([np.cos(self.tilt), np.sin(self.tilt), 0.0, 0.0], np.float32)
        return np.tile(vector, (len(texts), 1)), [np.zeros((len(s), 4), np.float32) for s in spans]


def test_the_sample_is_news_like_passages_with_their_sentence_spans():
    texts, spans = sample()
    assert len(texts) == calibrate.SAMPLE_PASSAGES and len(set(texts)) > 1
    for text, found in zip(texts, spans, strict=True):
        assert 60 <= len(text.split()) <= 120
        assert all(text[start:end].endswith(".") for start, end in found)


def test_choose_the_fastest_accurate_never_slower_than_the_baseline():
    timings = {
        "fast-but-wrong": {"seconds": 0.1, "cosine": GATE_COSINE - 0.01},
        "fast": {"seconds": 0.2, "cosine": 0.9999},
        BASELINE: {"seconds": 0.5, "cosine": 1.0},
        "broken": {"seconds": -1.0, "cosine": -1.0},
    }
    assert choose(timings) == "fast"
    timings["fast"]["seconds"] = 0.9  # slower than the reference's own arithmetic: keep the baseline
    assert choose(timings) == BASELINE


def test_measured_once_then_read_back_and_measured_again_on_another_cpu(tmp_path, monkeypatch):
    built = []
    runtimes = {
        "slow": Runtime(0.03),
        "quick": Runtime(0.0),
        "inaccurate": Runtime(0.0, tilt=0.2),
        "bad": Runtime(0, fails=True),
    }

    def build(name):
        built.append(name)
        return runtimes[name]

    names = ["slow", "quick", "inaccurate", "bad"]
    assert calibrated_backend(Reference(), names, build, tmp_path) == "quick"
    assert sorted(built) == sorted(names)
    built.clear()
    assert calibrated_backend(Reference(), names, build, tmp_path) == "quick"
    assert built == []  # read from calibration.json
    monkeypatch.setattr(calibrate, "cpu_name", lambda: "Another CPU")
    runtimes["slow"], runtimes["quick"] = Runtime(0.0), Runtime(0.03)
    assert calibrated_backend(Reference(), names, build, tmp_path) == "slow"
    assert sorted(built) == sorted(names)


def test_one_candidate_or_no_reference_is_not_measured(tmp_path):
    class NoTorch(Reference):
        def embed(self, texts, progress=None):
            raise ImportError("torch")

    def build(name):
        pytest.fail("nothing is built")

    assert calibrated_backend(Reference(), ["only"], build, tmp_path) == "only"
    assert calibrated_backend(NoTorch(), ["first", "second"], build, tmp_path) == "first"
