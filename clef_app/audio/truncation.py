"""How long a recording's own header says it is, to tell a file cut short from a whole one.

libsndfile counts the frames that are there for some formats and trusts the header for
others, and a cut that lands between two blocks of a format decodes without an error. So
each format's own record of its end is read here:
- WAV: the `data` chunk's size;
- FLAC: STREAMINFO's total samples (libsndfile's count);
- MP3: a Xing/Info or VBRI header's frame count (LAME writes Xing, with its delay and
  padding, in every file it encodes);
- Ogg (Vorbis, Opus): no length anywhere, but a whole stream's last page carries the
  end-of-stream flag, so a cut one is known; how much followed is not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import soundfile as sf

WAV_SAMPLE_BYTES = {"PCM_U8": 1, "PCM_S8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4,
                    "FLOAT": 4, "DOUBLE": 8}  # bytes per sample of the WAV codings
OGG_MAX_PAGE = 27 + 255 + 255 * 255  # bytes: an Ogg page's largest size (header + lacing)
OGG_EOS = 0x04  # header-type flag of a logical stream's last page
SF_COUNT_MAX = 2**63 - 1  # libsndfile's frame count for "unknown" (a FLAC whose
# STREAMINFO gives no total: a streaming encoder's, or a recorder that crashed before its end)
MP3_SCAN = 1 << 16  # bytes searched for the first MPEG frame after an ID3v2 tag
MP3_SLACK_FRAMES = 3  # MPEG frames an intact file may decode short of a header's count
# without LAME's gapless figures (the encoder's delay and padding: under two frames)


def known_frames(frames: int) -> int:
    """libsndfile's frame count, 0 when it does not know it."""
    return 0 if frames >= SF_COUNT_MAX or frames < 0 else int(frames)


@dataclass(frozen=True)
class End:
    """What a file's header says about its length."""

    frames: int = 0  # frames (samples per channel) it announces; 0 when it does not say
    slack: int = 0  # frames a whole file may decode short of `frames`
    unfinished: bool = False  # it is known to stop before its end (an Ogg without EOS)


def announced_end(f: sf.SoundFile) -> End:
    """The length an open file's header announces, by format (see the module's notes)."""
    try:
        if f.format in ("WAV", "WAVEX"):
            return End(_wav_frames(f))
        if f.format == "FLAC":
            return End(known_frames(f.frames))
        if f.format == "MP3":
            return _mp3_end(f.name)
        if f.format == "OGG":
            return End(unfinished=_ogg_unfinished(f.name))
    except OSError:
        pass
    return End()


def cut_short_warning(name: str, got: int, rate: int, end: End) -> str:
    """A one-line warning when `got` frames fall short of what `end` announces, else ''."""
    if got <= 0:
        return ""
    if end.frames - end.slack > got:
        return (f"{name}: cut short; opened {got / rate:.1f} s of the {end.frames / rate:.1f} s "
                f"its header announces ({100 * got / end.frames:.0f} %)")
    if end.unfinished:
        return (f"{name}: cut short (the stream stops before its end mark); opened the "
                f"{got / rate:.1f} s that decode, and the file does not record how much is "
                f"lost")
    return ""


def _wav_frames(f: sf.SoundFile) -> int:
    """Frames a WAV file's `data` chunk says it holds (libsndfile counts what is there);
    0 when unknown: an unknown sample size, or a recorder's unfinished header."""
    size = WAV_SAMPLE_BYTES.get(f.subtype)
    if size is None:
        return 0
    with open(f.name, "rb") as raw:
        if raw.read(12)[8:12] != b"WAVE":
            return 0
        for _ in range(64):  # chunks before `data` (fmt, fact, LIST, ...)
            head = raw.read(8)
            if len(head) < 8:
                return 0
            length = int.from_bytes(head[4:8], "little")
            if head[:4] == b"data":
                return 0 if length in (0, 0xFFFFFFFF) else length // (size * f.channels)
            raw.seek(length + (length & 1), 1)
    return 0


def _ogg_unfinished(path: str) -> bool:
    """Whether the file's last complete Ogg page lacks the end-of-stream flag."""
    with open(path, "rb") as raw:
        raw.seek(0, 2)
        size = raw.tell()
        start = max(0, size - 2 * OGG_MAX_PAGE)
        raw.seek(start)
        tail = raw.read()
    at = len(tail)
    while (at := tail.rfind(b"OggS", 0, at)) >= 0:
        page = tail[at:]
        if len(page) >= 27 and page[4] == 0 and len(page) >= 27 + page[26]:
            body = sum(page[27 : 27 + page[26]])
            if 27 + page[26] + body <= len(page):  # a complete page: the last one
                return not page[5] & OGG_EOS
    return False  # no complete page in the tail: not something to judge


def _mp3_end(path: str) -> End:
    """The length a Xing/Info header (less LAME's delay and padding) or a VBRI header
    announces in the first MPEG frame; End() when there is neither."""
    with open(path, "rb") as raw:
        head = raw.read(10)
        skip = 0
        if head[:3] == b"ID3" and len(head) == 10:  # ID3v2: a syncsafe size, maybe a footer
            skip = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(head[6:10]))
            skip += 10 if head[5] & 0x10 else 0
        raw.seek(skip)
        data = raw.read(MP3_SCAN)
    at = _first_frame(data)
    if at < 0:
        return End()
    frame = data[at : at + 400]  # the first frame's side info and any header within it
    version, layer = (frame[1] >> 3) & 3, (frame[1] >> 1) & 3
    per_frame = {3: 384, 2: 1152}.get(layer, 1152 if version == 3 else 576)
    for tag in (b"Xing", b"Info"):
        if 0 < (i := frame.find(tag)) <= 40:
            return _xing_end(frame[i:], per_frame)
    if frame[36:40] == b"VBRI" and len(frame) >= 54:  # always 32 bytes after the header
        frames = int.from_bytes(frame[50:54], "big")
        return End(frames * per_frame, MP3_SLACK_FRAMES * per_frame)
    return End()


def _xing_end(xing: bytes, per_frame: int) -> End:
    """A Xing/Info header's frame count in samples; exact with a LAME tag's gapless info."""
    flags = int.from_bytes(xing[4:8], "big")
    if not flags & 1 or len(xing) < 12:  # no frame count
        return End()
    samples = int.from_bytes(xing[8:12], "big") * per_frame
    # the optional fields: frames, bytes, a 100-byte seek table, quality
    lame = 8 + sum(size for bit, size in ((1, 4), (2, 4), (4, 100), (8, 4)) if flags & bit)
    if len(xing) >= lame + 24 and xing[lame : lame + 4].isalpha():  # "LAME", "Lavc", ...
        gapless = int.from_bytes(xing[lame + 21 : lame + 24], "big")  # 12 bits each
        return End(samples - (gapless >> 12) - (gapless & 0xFFF))
    return End(samples, MP3_SLACK_FRAMES * per_frame)


def _first_frame(data: bytes) -> int:
    """Offset of the first plausible MPEG audio frame header in `data`, or -1."""
    at = data.find(b"\xff")
    while 0 <= at < len(data) - 4:
        b1, b2 = data[at + 1], data[at + 2]
        if (b1 & 0xE0 == 0xE0 and (b1 >> 3) & 3 != 1 and (b1 >> 1) & 3 != 0
                and b2 >> 4 not in (0, 15) and (b2 >> 2) & 3 != 3):
            return at
        at = data.find(b"\xff", at + 1)
    return -1

