"""No PortAudio library and no device at all: Clef reports it and nothing crashes.

Each case runs in a fresh interpreter, because PortAudio is loaded and initialised once per
process.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
{prelude}
from clef_app.audio.devices import AudioUnavailable, list_devices
from clef_app.audio.live import LiveInput
from clef_app.audio.playback import Player

devices = list_devices()
player = Player()
try:
    LiveInput().start()
    live_error = ""
except AudioUnavailable as exc:
    live_error = str(exc)
print(json.dumps({{"inputs": len(devices.inputs), "outputs": len(devices.outputs),
                  "error": devices.error, "input_message": devices.input_message,
                  "player_available": player.available, "player_error": player.error,
                  "live_error": live_error}}))
"""

HIDE_PORTAUDIO = """
import ctypes.util
_find = ctypes.util.find_library
ctypes.util.find_library = lambda name: None if "portaudio" in name else _find(name)
"""


def probe(prelude: str = "", **env: str) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE.format(prelude=prelude)], cwd=ROOT,
                            env={**os.environ, **env}, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_missing_portaudio_library_is_reported_not_raised():
    out = probe(HIDE_PORTAUDIO)
    assert out["inputs"] == out["outputs"] == 0
    assert "libportaudio2" in out["error"]
    assert out["input_message"] == out["error"]
    assert not out["player_available"] and "libportaudio2" in out["player_error"]
    assert "libportaudio2" in out["live_error"]


def test_no_device_at_all_is_a_plain_state():
    if Path("/dev/snd").exists() or Path("/dev/dsp").exists():
        pytest.skip("this machine has sound hardware, so 'no device' cannot be set up here")
    out = probe(PULSE_SERVER="unix:/nonexistent/clef-no-server")  # no sound server either
    assert out["inputs"] == out["outputs"] == 0 and out["error"] == ""
    assert out["input_message"] == "no audio input device found"
    assert not out["player_available"]
    assert out["player_error"] == "no audio output device found"
    assert out["live_error"] == "no audio input device found"
