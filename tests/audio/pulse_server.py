"""A private PulseAudio server with a null sink, for tests through a real PortAudio device.

The daemon runs in the foreground of a child process with its own runtime folder and socket,
so it never meets a user's sound server, and is stopped by its pid. PortAudio (19.6 has no
PulseAudio host API) reaches it through ALSA's `pulse` device from libasound2-plugins, whose
config hook only defines that device while a server answers: so PortAudio is re-initialised
after the server starts and again after it stops.

Debian packages: pulseaudio (the daemon), pulseaudio-utils (pactl, paplay, parec),
libasound2-plugins (ALSA's pulse device), libportaudio2.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

SINK = "clef_test"
START_TIMEOUT = 10.0  # s


@dataclass(frozen=True)
class PulseServer:
    socket: str
    sink: str
    env: dict[str, str]  # for child processes (pactl, paplay, parec)
    input_device: int  # PortAudio index of ALSA's "pulse" device (records the sink's monitor)
    output_device: int  # the same device, playing into the null sink

    @property
    def monitor(self) -> str:
        return f"{self.sink}.monitor"

    def run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), env=self.env, capture_output=True, timeout=30, **kw)


def missing_requirement() -> str:
    """Why the real-device tests cannot run here ("" when they can)."""
    for tool, package in (("pulseaudio", "pulseaudio"), ("pactl", "pulseaudio-utils"),
                          ("paplay", "pulseaudio-utils"), ("parec", "pulseaudio-utils")):
        if shutil.which(tool) is None:
            return f"`{tool}` not found (Debian package {package})"
    if not glob.glob("/usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so") + glob.glob(
            "/usr/lib/alsa-lib/libasound_module_pcm_pulse.so"):
        return "ALSA's pulse plugin not found (Debian package libasound2-plugins)"
    try:
        import sounddevice  # noqa: F401
    except OSError as exc:
        return f"PortAudio cannot be loaded ({exc}; Debian package libportaudio2)"
    return ""


@contextmanager
def null_sink_server() -> Iterator[PulseServer]:
    """Start the server, point PortAudio at it, yield; skips the test with the reason if not."""
    reason = missing_requirement()
    if reason:
        pytest.skip(f"real-device test needs {reason}")
    from clef_app.audio.devices import list_devices

    runtime = tempfile.mkdtemp(prefix="clef-pa-", dir="/tmp")  # short: sockets allow 108 bytes
    socket = os.path.join(runtime, "native")
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, PULSE_RUNTIME_PATH=runtime, HOME=runtime,
               PULSE_SERVER=f"unix:{socket}")
    proc = subprocess.Popen(
        ["pulseaudio", "--daemonize=no", "-n", "--exit-idle-time=-1", "--use-pid-file=no",
         "--disable-shm=yes", "--log-target=stderr", "--log-level=error",
         f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket}",
         f"--load=module-null-sink sink_name={SINK} rate=48000"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    saved = {k: os.environ.get(k) for k in ("PULSE_SERVER", "PULSE_RUNTIME_PATH")}
    feeder = None
    try:
        _wait_until_ready(proc, env)
        subprocess.run(["pactl", "set-default-sink", SINK], env=env, check=True, timeout=10)
        subprocess.run(["pactl", "set-default-source", f"{SINK}.monitor"], env=env, check=True,
                       timeout=10)
        os.environ["PULSE_SERVER"] = env["PULSE_SERVER"]
        os.environ["PULSE_RUNTIME_PATH"] = runtime
        devices = list_devices(refresh=True)
        pulse_in = [d.index for d in devices.inputs if d.name == "pulse"]
        pulse_out = [d.index for d in devices.outputs if d.name == "pulse"]
        if not pulse_in or not pulse_out:
            pytest.fail(f"PulseAudio runs but PortAudio shows no 'pulse' device: {devices}")
        # an idle null sink renders in blocks of up to 2 s, so its monitor delivers nothing for
        # seconds; a low-latency stream of silence keeps it ticking like a live microphone
        with open("/dev/zero", "rb") as zeros:
            feeder = subprocess.Popen(
                ["pacat", "--playback", f"--device={SINK}", "--format=s16le", "--rate=48000",
                 "--channels=1", "--latency-msec=20"], stdin=zeros, env=env)
        _warm_up(pulse_in[0])
        yield PulseServer(socket, SINK, env, pulse_in[0], pulse_out[0])
    finally:
        if feeder is not None:
            feeder.terminate()
            feeder.wait(timeout=10)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        list_devices(refresh=True)
        shutil.rmtree(runtime, ignore_errors=True)


def _warm_up(device: int) -> None:
    """Open a capture stream until audio flows (the first connection can take a second)."""
    import sounddevice as sd

    flowing = threading.Event()
    with sd.InputStream(device=device, channels=1, callback=lambda *a: flowing.set()):
        if not flowing.wait(START_TIMEOUT):
            pytest.fail(f"the null sink's monitor delivered no audio within {START_TIMEOUT} s")


def _wait_until_ready(proc: subprocess.Popen, env: dict[str, str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
            pytest.skip(f"pulseaudio exited with {proc.returncode}: {err[-400:]}")
        if subprocess.run(["pactl", "info"], env=env, capture_output=True,
                          timeout=10).returncode == 0:
            return
        time.sleep(0.1)
    pytest.skip(f"pulseaudio did not answer within {START_TIMEOUT} s")
