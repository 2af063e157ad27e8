"""Audio devices through sounddevice/PortAudio, with a plain "no audio" state.

sounddevice loads libportaudio when it is imported and raises OSError when the library is
missing; it is therefore imported only inside these functions, and every failure becomes a
`DeviceList` with an `error` the GUI can show. PortAudio enumerates devices once, when it
initialises; `list_devices(refresh=True)` re-initialises it so a sound server started later
(or a device plugged in) shows up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clef_app.errors import ClefError

NO_LIBRARY = "no audio: the PortAudio library is missing (install libportaudio2)"
NO_INPUT = "no audio input device found"
NO_OUTPUT = "no audio output device found"
PREFERRED_RATES = (48_000, 44_100, 32_000, 22_050, 16_000)  # Hz, tried in this order


class AudioUnavailable(ClefError):
    """PortAudio is missing or a device cannot be opened; the message says which."""


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    host_api: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float

    @property
    def label(self) -> str:
        return f"{self.name} ({self.host_api})"


@dataclass(frozen=True)
class DeviceList:
    """What PortAudio offers; `error` is non-empty when audio is unavailable altogether."""

    inputs: list[AudioDevice] = field(default_factory=list)
    outputs: list[AudioDevice] = field(default_factory=list)
    default_input: int | None = None
    default_output: int | None = None
    error: str = ""

    @property
    def input_message(self) -> str:
        """Empty when recording is possible, else why not."""
        return self.error or ("" if self.inputs else NO_INPUT)

    @property
    def output_message(self) -> str:
        return self.error or ("" if self.outputs else NO_OUTPUT)


def sounddevice_module():
    """The sounddevice module, or AudioUnavailable when libportaudio cannot be loaded."""
    try:
        import sounddevice
    except OSError as exc:  # "PortAudio library not found"
        raise AudioUnavailable(f"{NO_LIBRARY} ({exc})") from exc
    return sounddevice


def reinitialise() -> None:
    """Make PortAudio enumerate devices again (no stream may be open)."""
    sd = sounddevice_module()
    sd._terminate()
    sd._initialize()


def list_devices(refresh: bool = False) -> DeviceList:
    """Input and output devices; never raises (failures land in `DeviceList.error`)."""
    try:
        sd = sounddevice_module()
        if refresh:
            reinitialise()
        raw = sd.query_devices()
        apis = sd.query_hostapis()
    except AudioUnavailable as exc:
        return DeviceList(error=str(exc))
    except Exception as exc:  # PortAudioError: PortAudio itself failed to start
        return DeviceList(error=f"no audio: PortAudio failed ({exc})")
    devices = [_device(i, d, apis) for i, d in enumerate(raw)]
    inputs = [d for d in devices if d.max_input_channels > 0]
    outputs = [d for d in devices if d.max_output_channels > 0]
    return DeviceList(inputs, outputs, _default(sd, 0, inputs), _default(sd, 1, outputs))


def _device(index: int, d: dict, apis) -> AudioDevice:
    return AudioDevice(index, str(d["name"]), str(apis[d["hostapi"]]["name"]),
                       int(d["max_input_channels"]), int(d["max_output_channels"]),
                       float(d["default_samplerate"]))


def _default(sd, which: int, candidates: list[AudioDevice]) -> int | None:
    """PortAudio's default device index if usable, else the first candidate, else None."""
    try:
        index = sd.default.device[which]
    except Exception:  # PortAudio has no default device here: use the first candidate
        index = -1
    ids = [d.index for d in candidates]
    if index in ids:
        return int(index)
    return ids[0] if ids else None


def negotiate_rate(device: int | None, kind: str, channels: int = 1,
                   preferred: tuple[int, ...] = PREFERRED_RATES) -> int:
    """The first sample rate the device accepts (its own default tried first).

    Args:
        kind: "input" or "output".
    Raises:
        AudioUnavailable: the device accepts none of them.
    """
    sd = sounddevice_module()
    check = sd.check_input_settings if kind == "input" else sd.check_output_settings
    try:
        own = int(sd.query_devices(device, kind)["default_samplerate"])
    except Exception as exc:  # PortAudioError or a bad index (ValueError): named
        raise AudioUnavailable(f"audio {kind} device {device}: {exc}") from exc
    errors = []
    for rate in dict.fromkeys((own, *preferred)):
        try:
            check(device=device, channels=channels, samplerate=rate, dtype="float32")
            return rate
        except Exception as exc:  # PortAudioError/ValueError: this rate is refused, try the next
            errors.append(f"{rate} Hz: {exc}")
    raise AudioUnavailable(f"audio {kind} device {device} accepts no usable rate ({errors[0]})")


def close_stream(stream) -> None:
    """Abort and close a sounddevice stream (None is fine); a dead device is not an error here."""
    if stream is None:
        return
    try:
        stream.abort()
        stream.close()
    except Exception:  # the device is already gone: nothing left to close
        pass
