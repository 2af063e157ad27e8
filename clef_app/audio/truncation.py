"""How long a recording's own header says it is, to tell a file cut short from a whole one.

libsndfile counts the frames that are there for some formats and trusts the header for
others, and a cut that lands between two blocks of a format decodes without an error. So
each format's own record of its end is read here:
- WAV: the `data` chunk's size;
- FLAC: STREAMINFO's total samples (libsndfile's count);
- MP3: a Xing/Info or VBRI header's frame count (LAME writes Xing, with its delay and
  padding, in every file it encodes); without either, the frames are walked by their
  headers' lengths, and a last frame that runs past the file's end is a cut (how much
  followed is not recorded; a cut exactly between two frames cannot be seen);
- Ogg (Vorbis, Opus): no length in a header, but every page records the position of its
  last sample and a whole stream's last page carries the end-of-stream flag. So a stream
  whose pages decode to less than the last one's position lost pages inside (the decoder
  skips them), and one whose last page lacks the flag is cut: how much followed the file's
  end is not recorded, but bytes at its end that hold no pages (a recorder's crash leaves
  zeros) are lost audio, about as long as the decoded part's bitrate makes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import soundfile as sf

WAV_SAMPLE_BYTES = {"PCM_U8": 1, "PCM_S8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4,
                    "FLOAT": 4, "DOUBLE": 8}  # bytes per sample of the WAV codings
OGG_MAX_PAGE = 27 + 255 + 255 * 255  # bytes: an Ogg page's largest size (header + lacing)
OGG_EOS = 0x04  # header-type flag of a logical stream's last page
OGG_SCAN = 1 << 20  # bytes read at a time, backwards, looking for the last complete page
OGG_CRC_POLY = 0x04C11DB7  # the pages' CRC-32 (not reflected, initial value 0)
OGG_LOST_BYTES = 4096  # bytes after an Ogg's last page that hold none, said as lost audio
OGG_SLACK_FRAMES = 960  # frames an intact Ogg may decode short of its last page's position
# (20 ms at 48 kHz: a decoder trims an encoder's padding)
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
    pages: int = 0  # bytes of audio pages up to an Ogg's last complete one (1: with EOS)
    after: int = 0  # bytes after it (and after a page cut short there) that hold no page
    why: str = "the stream stops before its end mark"  # how an unfinished file shows it


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
            return _ogg_end(f.name, known_frames(f.frames))
    except OSError:
        pass
    return End()


def cut_short_warning(name: str, got: int, rate: int, end: End) -> str:
    """A one-line warning when `got` frames fall short of what `end` announces, else ''."""
    if got <= 0:
        return ""
    if end.frames - end.slack > got:
        share = f"{100 * got / end.frames:.0f} %"
        if end.pages:  # an Ogg that ends with its end mark: pages inside did not decode
            return (f"{name}: damaged; opened {got / rate:.1f} s of the "
                    f"{end.frames / rate:.1f} s its pages announce ({share}; the pages that "
                    f"did not decode are left out, so what follows them comes early)")
        return (f"{name}: cut short; opened {got / rate:.1f} s of the {end.frames / rate:.1f} s "
                f"its header announces ({share})")
    if not end.unfinished:
        return ""
    lost = "and the file does not record how much is lost"
    if end.after >= OGG_LOST_BYTES and end.pages:  # bytes that should have held pages
        about = end.after / (end.pages / got) / rate
        lost = (f"its last {end.after / 1024:.0f} KB hold no audio, about {about:.1f} s more "
                f"at its bitrate; what followed the file's end is not recorded")
    return (f"{name}: cut short ({end.why}); opened the "
            f"{got / rate:.1f} s that decode, {lost}")


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


def _ogg_end(path: str, frames: int) -> End:
    """An Ogg stream's end: its last complete page (looked for backwards from the file's
    end) and whether it carries the end-of-stream flag. `frames`: libsndfile's count, the
    last page's position."""
    with open(path, "rb") as raw:
        size = raw.seek(0, 2)
        top = size
        while top > 0:
            start = max(0, top - OGG_SCAN)
            raw.seek(start)
            tail = raw.read(top - start + OGG_MAX_PAGE)  # a page may cross `top`
            found = _last_page(tail)
            if found is not None:
                stop, flags = found
                if flags & OGG_EOS:
                    return End(frames, OGG_SLACK_FRAMES, pages=1)
                # bytes after the last page: none, a page the file's end cuts (how much
                # followed is unknown), or bytes that hold no valid page (lost audio)
                after = size - start - stop
                if 0 < after < _page_length(tail[stop:]):
                    after = 0
                raw.seek(0)
                audio = start + stop - _headers_length(raw.read(OGG_SCAN))
                return End(unfinished=True, pages=max(1, audio), after=max(0, after))
            top = start
    return End()  # no complete page: not something to judge


def _page_length(data: bytes) -> int:
    """The length the Ogg page at the start of `data` declares (0: none starts there)."""
    if data[:4] != b"OggS" or len(data) < 27 or len(data) < 27 + data[26]:
        return len(data) + 1 if data[:4] == b"OggS" else 0  # a page cut inside its header
    return 27 + data[26] + sum(data[27 : 27 + data[26]])


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ OGG_CRC_POLY) & 0xFFFFFFFF if r & 0x80000000 else r << 1
        table.append(r & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def _page_intact(page: bytes) -> bool:
    """Whether a whole page's checksum (bytes 22-25, computed with them zeroed) holds: a
    page cut short and followed by zeros declares a length it seems to have."""
    crc = 0
    for b in page[:22] + bytes(4) + page[26:]:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[(crc >> 24) ^ b]
    return crc == int.from_bytes(page[22:26], "little")


def _headers_length(data: bytes) -> int:
    """Bytes of the pages that open a stream at position 0 (the codec's headers: Vorbis's
    codebooks are kilobytes), so the bitrate is the audio's alone."""
    at = 0
    while data[at : at + 4] == b"OggS" and len(data) >= at + 27:
        if int.from_bytes(data[at + 6 : at + 14], "little") != 0 or not _page_length(data[at:]):
            break
        at += _page_length(data[at:])
    return at


def _last_page(data: bytes) -> tuple[int, int] | None:
    """(offset of its end, header-type flags) of the last complete Ogg page in `data`."""
    at = len(data)
    while (at := data.rfind(b"OggS", 0, at)) >= 0:
        page = data[at:]
        if len(page) >= 27 and page[4] == 0 and len(page) >= 27 + page[26]:
            length = 27 + page[26] + sum(page[27 : 27 + page[26]])
            if length <= len(page) and _page_intact(page[:length]):
                return at + length, page[5]
    return None


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
    return _walked_end(path, skip + at)


MP3_KBPS = {3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
            2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}  # layer III
MP3_RATES = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000), 0: (11_025, 12_000, 8_000)}
MP3_WALK_MAX = 1 << 28  # bytes: a longer file is not walked (256 MB, hours of audio)


def _walked_end(path: str, first: int) -> End:
    """End(unfinished) when a header-less layer-III file's last frame runs past its end;
    End() when it ends whole, in a tag, or in anything this walk does not know."""
    with open(path, "rb") as raw:
        data = raw.read(MP3_WALK_MAX + 1)
    if len(data) > MP3_WALK_MAX:
        return End()
    at = first
    while at + 4 <= len(data):
        size = _layer3_frame_bytes(data[at : at + 4])
        if size <= 0:
            return End()  # a tag, or something else: not a cut this can tell
        if at + size > len(data):
            return End(unfinished=True, why="its last MPEG frame is cut off")
        at += size
    if at < len(data):  # a cut inside the next frame's header
        return End(unfinished=True, why="its last MPEG frame is cut off")
    return End()


def _layer3_frame_bytes(head: bytes) -> int:
    """Bytes of the layer-III frame whose 4-byte header this is; 0 when it is none (or
    free-format, whose length the header does not give)."""
    if head[0] != 0xFF or head[1] & 0xE0 != 0xE0 or (head[1] >> 1) & 3 != 1:
        return 0
    version, bitrate, rate = (head[1] >> 3) & 3, head[2] >> 4, (head[2] >> 2) & 3
    if version == 1 or bitrate in (0, 15) or rate == 3:
        return 0
    kbps = MP3_KBPS[3 if version == 3 else 2][bitrate]
    per_frame = 144_000 if version == 3 else 72_000
    return per_frame * kbps // MP3_RATES[version][rate] + ((head[2] >> 1) & 1)


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

