"""Frozen hyperparameters, each with its unit. Checkpoints store their own copy."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields

SAMPLE_RATE = 16_000  # Hz: every model input is mono at this rate
HOP_LENGTH = 160  # samples: 10 ms per spectrogram frame
N_FFT = 2048  # samples: 128 ms window, 7.8 Hz bins
N_MELS = 128  # mel bins between F_MIN and F_MAX
F_MIN = 30.0  # Hz: just above A0 (27.5 Hz)
F_MAX = 8_000.0  # Hz: Nyquist at 16 kHz
DB_RANGE = 80.0  # dB: the segment's loudest bin maps to 1, DB_RANGE below it to 0
DB_FLOOR = -100.0  # dB: a segment quieter than this is treated as silence
FRAMES_PER_SECOND = SAMPLE_RATE // HOP_LENGTH  # 100 frames/s

MIDI_MIN = 21  # A0, the lowest piano key
MIDI_MAX = 108  # C8, the highest piano key
N_PITCHES = MIDI_MAX - MIDI_MIN + 1  # 88 keys


@dataclass(frozen=True)
class FrontEndConfig:
    """How audio becomes the encoder's image; stored in every checkpoint."""

    sample_rate: int = SAMPLE_RATE
    hop_length: int = HOP_LENGTH
    n_fft: int = N_FFT
    n_mels: int = N_MELS
    f_min: float = F_MIN
    f_max: float = F_MAX
    db_range: float = DB_RANGE
    segment_frames: int = 256  # frames: 2.56 s per segment
    image_height: int = 224  # px: mel rows resized to the ViT's pretraining height
    px_per_frame: int = 2  # px: one 16-px patch column covers 8 frames = 80 ms
    # "mel": n_mels mel rows from f_min to f_max, resized to image_height;
    # "logfreq": image_height rows in equal pitch steps from low_pitch to high_pitch
    # (audio/logfreq.py, the workspace's transform: about 2.3 rows per semitone by default)
    kind: str = "mel"
    low_pitch: float = MIDI_MIN - 0.5  # MIDI: bottom edge of the lowest logfreq row (A0's)
    high_pitch: float = 119.5  # MIDI: top edge of the highest (B8's, 8.1 kHz, at Nyquist)

    @property
    def segment_seconds(self) -> float:
        return self.segment_frames * self.hop_length / self.sample_rate

    @property
    def segment_samples(self) -> int:
        return self.segment_frames * self.hop_length

    @property
    def image_width(self) -> int:
        return self.segment_frames * self.px_per_frame

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ModelConfig:
    """Dimensions of the Clef model; stored in every checkpoint."""

    encoder_name: str = "vit_tiny_patch16_224"
    encoder_kind: str = "vit"  # vit | vit-scratch | whisper | cnn
    encoder_blocks: int = 2  # frozen ViT blocks run (pitch lives in the early ones)
    finetune_blocks: int = 0  # of those, how many train (0 = frozen encoder)
    encoder_dim: int = 192  # ViT-Ti token width
    patch: int = 16  # px
    bridge_layers: int = 2  # trainable Transformer layers over patch columns
    d_model: int = 256
    n_heads: int = 4
    decoder_layers: int = 4
    ff_mult: int = 4
    dropout: float = 0.1
    max_tokens: int = 512  # per segment, BOS..EOS
    aux_roll: bool = True  # a frame/onset piano-roll head on the bridge (dense supervision)
    vocab_version: int = 1
    encoder_sha256: str = ""  # of the pretrained weights the frozen part expects
    front_end: FrontEndConfig = field(default_factory=FrontEndConfig)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        """A config from its stored dict, every field type- and range-checked.

        Raises:
            ValueError: unknown fields, wrong types, or sizes no Clef model has.
        """
        if not isinstance(d, dict):
            raise ValueError("ModelConfig: expected an object")
        d = dict(d)
        fe = _checked(FrontEndConfig, d.pop("front_end", {}))
        cfg = _checked(cls, {**d, "front_end": fe})
        _check_ranges(cfg, CONFIG_RANGES)
        _check_ranges(fe, FRONT_END_RANGES)
        if cfg.encoder_name not in ENCODER_NAMES.get(cfg.encoder_kind, ()):
            raise ValueError(f"encoder {cfg.encoder_name!r} of kind {cfg.encoder_kind!r} is not "
                             "one Clef builds")
        if cfg.encoder_sha256 and not _SHA256.fullmatch(cfg.encoder_sha256):
            raise ValueError("encoder_sha256 is not a sha256 hex digest")
        if cfg.d_model % cfg.n_heads or cfg.finetune_blocks > cfg.encoder_blocks:
            raise ValueError(f"d_model {cfg.d_model} does not split into {cfg.n_heads} heads, "
                             "or more blocks fine-tuned than run")
        if fe.image_height % cfg.patch or fe.image_width % cfg.patch:
            raise ValueError(f"patch {cfg.patch} does not tile the {fe.image_height} x "
                             f"{fe.image_width} image")
        if not (fe.f_min < fe.f_max <= fe.sample_rate / 2 and fe.hop_length <= fe.n_fft):
            raise ValueError("front end: f_min < f_max <= sample_rate / 2 and hop <= n_fft")
        logfreq_rate = fe.kind != "logfreq" or fe.sample_rate == 100 * fe.hop_length
        if fe.kind not in FRONT_END_KINDS or not logfreq_rate:
            raise ValueError(f"front end kind {fe.kind!r}: one of {FRONT_END_KINDS} "
                             "(logfreq at 100 frames/s)")
        if trainable_parameters(cfg) > MAX_PARAMETERS:
            raise ValueError(f"about {trainable_parameters(cfg) / 1e6:.0f} M parameters; a Clef "
                             f"model has at most {MAX_PARAMETERS / 1e6:.0f} M")
        return cfg


def trainable_parameters(cfg: ModelConfig) -> int:
    """An upper estimate of the checkpoint's parameters, from the config alone (so a hostile
    config is refused before anything is allocated): bridge, decoder, embeddings, roll head."""
    d, ff = cfg.d_model, cfg.ff_mult
    layer = (4 + 2 * ff) * d * d + (4 + ff) * d  # attention + feed-forward, biases
    bridge = cfg.bridge_layers * layer + 64 * cfg.encoder_dim * d  # in-projection, a column
    decoder = cfg.decoder_layers * (layer + 4 * d * d) + (MAX_VOCAB + cfg.max_tokens) * d
    roll = d * max(1, cfg.patch // cfg.front_end.px_per_frame) * 2 * N_PITCHES  # per column
    encoder = 16 * cfg.encoder_blocks * cfg.encoder_dim ** 2  # counted when it trains
    return bridge + decoder + roll + encoder


def _check_ranges(obj, ranges: dict[str, tuple[float, float]]) -> None:
    for name, (lo, hi) in ranges.items():
        value = getattr(obj, name)
        if not lo <= value <= hi:  # NaN fails too
            raise ValueError(f"{type(obj).__name__}.{name} = {value} is outside {lo}..{hi}")


MAX_PARAMETERS = 64_000_000  # ~256 MB of float32; the shipped model has ~7 M
MAX_VOCAB = 4096  # tokens: an upper bound on any codec vocabulary
_SHA256 = re.compile(r"[0-9a-f]{64}")
# encoder kind -> the encoder names Clef knows how to build for it (anything else could
# make timm allocate a giant model before a single weight is checked)
ENCODER_NAMES = {"vit": ("vit_tiny_patch16_224",), "vit-scratch": ("vit_tiny_patch16_224",),
                 "whisper": ("whisper-audio-encoder",), "cnn": ("tf_efficientnet_lite0",)}
CONFIG_RANGES = {  # field -> (lowest, highest) a Clef model may have
    "encoder_blocks": (1, 12), "finetune_blocks": (0, 12), "encoder_dim": (8, 1024),
    "patch": (4, 64), "bridge_layers": (1, 16), "d_model": (8, 1024), "n_heads": (1, 32),
    "decoder_layers": (1, 16), "ff_mult": (1, 8), "dropout": (0.0, 0.9),
    "max_tokens": (4, 4096), "vocab_version": (1, 1000),
}
FRONT_END_RANGES = {
    "sample_rate": (8_000, 48_000), "hop_length": (16, 4096), "n_fft": (64, 8192),
    "n_mels": (8, 512), "f_min": (0.0, 24_000.0), "f_max": (100.0, 24_000.0),
    "db_range": (10.0, 200.0), "segment_frames": (16, 256), "image_height": (32, 1024),
    "px_per_frame": (1, 8), "low_pitch": (0.0, 60.0), "high_pitch": (60.0, 140.0),
}
FRONT_END_KINDS = ("mel", "logfreq")


def _checked(cls, values: dict):
    """Build a dataclass from a dict whose values must match the declared field types."""
    if not isinstance(values, dict):
        raise ValueError(f"{cls.__name__}: expected an object")
    kinds = {"int": int, "float": (int, float), "str": str, "bool": bool}
    names = {f.name: f for f in fields(cls)}
    unknown = set(values) - set(names)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown fields {sorted(unknown)}")
    for key, value in values.items():
        kind = kinds.get(str(names[key].type))
        bad_bool = isinstance(value, bool) and kind is not bool
        if kind is not None and (not isinstance(value, kind) or bad_bool):
            raise ValueError(f"{cls.__name__}.{key} = {value!r} is not {names[key].type}")
    return cls(**values)


@dataclass(frozen=True)
class DecodingConfig:
    """Inference options."""

    # windows decoded together, all readings' counted: decoding a step streams every decoder
    # weight, so a larger batch takes fewer steps (48 windows in one batch decoded ~25 %
    # faster on the CPU than in batches of 16, with the same tokens)
    batch_size: int = 48
    beam_size: int = 1  # 1 = greedy
    device: str = "auto"  # auto | cpu | cuda | mps
    min_confidence: float = 0.0  # notes less confident are dropped; checkpoints store a tuned one
    # roll-only notes (model/rollnotes.py): onset-probability peak needed, 0 = none;
    # checkpoints store a tuned one
    roll_onset: float = 0.0
    roll_frame: float = 0.3  # a roll-only note lasts while its frame probability is above this
    # a note still sounding at its end is held while its frame probability stays at least
    # this (model/sustain.py), 0 = as the decoder ends it; checkpoints store a tuned one
    roll_sustain: float = 0.0
    # roll-only notes' confidence on the decoder notes' scale: (onset peaks, the decoder-note
    # confidences equally often right), measured by `clef eval --calibrate`; () = the peak
    roll_confidence: tuple[tuple[float, ...], tuple[float, ...]] = ()
    # files are read `passes` times, on the segment grid shifted by k/passes of a segment,
    # and the readings merged (model/passes.py): a note two or more wrote is kept from a
    # mean confidence of pass_both, one only one wrote from pass_single; checkpoints store
    # tuned ones
    passes: int = 1
    pass_single: float = 0.0
    pass_both: float = 0.0
    # s: a note of a key beginning this soon after the last one of that key joins it
    # (model/restrike.py), 0 = never; checkpoints store a chosen one
    restrike_gap: float = 0.0
