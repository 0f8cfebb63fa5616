"""Builds flowrun wire messages (include/flowrun/wire.h) byte by byte, for
tests that play a hostile or honest peer with a raw ZeroMQ socket."""
import struct

DATA, EOS = 1, 2
NONE, BYTES, IMAGE, TENSOR = 0, 1, 2, 3


def header(kind=BYTES, dims=(), rank=None, type_=DATA, id_="", key="", label="",
           media="", attrs=(), n_attrs=None, magic=b"FR", major=1):
    rank = len(dims) if rank is None else rank
    dims = list(dims) + [0] * (4 - len(dims))
    n_attrs = len(attrs) if n_attrs is None else n_attrs
    fixed = magic + struct.pack("<BBHBBB3x4IQI", major, 0, 40, type_, kind, rank, *dims, 0,
                                n_attrs)
    strings = [id_, key, label, media] + [s for pair in attrs for s in pair]
    table = b"".join(struct.pack("<I", len(s.encode())) + s.encode() for s in strings)
    return fixed + table


def eos(sender):
    return [header(kind=NONE, type_=EOS, key=sender)]


def image(key, h, w, payload=None, source="gen"):
    body = bytes((i * 7) % 256 for i in range(h * w * 3)) if payload is None else payload
    return [header(kind=IMAGE, dims=(h, w, 3), id_="%s:%s" % (source, key), key=key,
                   label="x"), body]
