"""Media inside a PDF, taken out with pypdf: embedded images, attached files, XMP packets.

Every object reachable from the trailer is visited (pages, forms, annotations, the name
tree of attachments, object streams: wherever an image or file can hang). A member is:
- a JPEG drawn inline in a page's or form's content stream (BI … ID <bytes> EI);
- an image XObject whose last filter is DCTDecode or JPXDecode: its stream *is* a JPEG /
  JPEG 2000 file, with any XMP, EXIF or C2PA it carried (what img2pdf and most exporters keep);
- an EmbeddedFile stream (attachments, rich media): the file itself, of any format;
- an XMP `/Metadata` stream attached to any object other than the document catalog (the
  metadata reader already reads the document's own XMP): e.g. the XMP of a raw-pixel image.
Decoding is pypdf's, which refuses to inflate a stream past its own output limit.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from provenance.evidence._unpack import Budget, ContainerError, Member, _Extractor

_MAX_OBJECTS = 500_000
# pypdf logs every repair it makes to a damaged file as a warning; what matters to us is
# only whether it could read the objects, which it tells by raising.
logging.getLogger("pypdf").setLevel(logging.ERROR)
_FILE_FILTERS = {"/DCTDecode": ".jpg", "/JPXDecode": ".jp2"}


def pdf_members(path: Path, into: Path, budget: Budget) -> Iterator[Member]:
    import pypdf  # imported here: only PDFs pay for it
    from pypdf.errors import PyPdfError
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

    take = _Extractor(into, budget).take
    try:
        reader = pypdf.PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ContainerError("the PDF is encrypted with a password: its embedded images cannot be read")
        trailer = reader.trailer
        root = trailer.get("/Root")
        root = root.get_object() if root is not None else None
        doc_xmp = root.get("/Metadata") if isinstance(root, DictionaryObject) else None
        doc_xmp_ref = (doc_xmp.idnum, doc_xmp.generation) if isinstance(doc_xmp, IndirectObject) else None

        seen: set[tuple[int, int]] = set()
        names: dict[tuple[int, int], str] = {}  # EmbeddedFile stream → the name its filespec gives
        todo: list[Any] = [trailer]
        visited = 0
        while todo:
            obj = todo.pop()
            ref: tuple[int, int] | None = None
            if isinstance(obj, IndirectObject):
                ref = (obj.idnum, obj.generation)
                if ref in seen:
                    continue
                seen.add(ref)
                obj = obj.get_object()
            visited += 1
            if visited > _MAX_OBJECTS:
                raise ContainerError(f"more than {_MAX_OBJECTS} PDF objects: not all could be looked at")
            if isinstance(obj, ArrayObject):
                todo.extend(obj)
                continue
            if not isinstance(obj, DictionaryObject):
                continue
            todo.extend(v for k, v in obj.items() if k not in ("/Parent", "/P"))  # back-links
            _note_file_names(obj, names)
            found: list[tuple[str, bytes]] = []
            if isinstance(obj, StreamObject):
                member = _member_of(obj, ref, doc_xmp_ref, names)
                found += [member] if member is not None else []
                if str(obj.get("/Subtype", "")) == "/Form":  # a form's content, like a page's
                    found += _inline_images(obj, reader, ref)
            elif str(obj.get("/Type", "")) == "/Page" and obj.get("/Contents") is not None:
                found += _inline_images(obj["/Contents"].get_object(), reader, ref)
            for name, data in found:
                budget.count_member(name)
                yield take(io.BytesIO(data), name)
    except ContainerError:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ContainerError(f"PDF objects could not be read: {type(exc).__name__}: {exc}") from None


def _filters(obj: Any) -> list[str]:
    f = obj.get("/Filter")
    if f is None:
        return []
    items = f if isinstance(f, list) else [f]
    return [str(x) for x in items]


_INLINE_JPEG = frozenset({"/DCT", "/DCTDecode"})


def _inline_images(contents: Any, reader: Any, ref: tuple[int, int] | None) -> list[tuple[str, bytes]]:
    """JPEGs drawn inline in a content stream (BI … ID <bytes> EI): the bytes are the JPEG file,
    with whatever XMP/EXIF it carried. Parsed only when the stream holds an inline image."""
    from pypdf.generic import ArrayObject, ContentStream

    parts = [p.get_object() for p in contents] if isinstance(contents, ArrayObject) else [contents]
    if not any(b"ID" in part.get_data() and b"BI" in part.get_data() for part in parts):
        return []
    out: list[tuple[str, bytes]] = []
    for operands, operator in ContentStream(contents, reader).operations:
        if operator != b"INLINE IMAGE":
            continue
        settings = operands.get("settings", {})
        filters = settings.get("/F", settings.get("/Filter"))
        last = str(filters[-1] if isinstance(filters, list) and filters else filters)
        if last in _INLINE_JPEG:
            out.append((f"inline-image-{len(out) + 1}-of-{ref[0] if ref else 'page'}.jpg",
                        bytes(operands["data"])))
    return out


def _note_file_names(obj: Any, names: dict[tuple[int, int], str]) -> None:
    """A file specification names the EmbeddedFile streams it holds (/EF → /F, /UF)."""
    from pypdf.generic import DictionaryObject, IndirectObject

    ef = obj.get("/EF")
    ef = ef.get_object() if isinstance(ef, IndirectObject) else ef
    if not isinstance(ef, DictionaryObject):
        return
    name = str(obj.get("/UF") or obj.get("/F") or "")
    for stream in ef.values():
        if isinstance(stream, IndirectObject) and name:
            names.setdefault((stream.idnum, stream.generation), name)


def _member_of(obj: Any, ref: tuple[int, int] | None, doc_xmp_ref: tuple[int, int] | None,
               names: dict[tuple[int, int], str]) -> tuple[str, bytes] | None:
    kind, subtype = str(obj.get("/Type", "")), str(obj.get("/Subtype", ""))
    num = f"{ref[0]}" if ref else "inline"
    if subtype == "/Image":
        filters = _filters(obj)
        ext = _FILE_FILTERS.get(filters[-1]) if filters else None
        if ext is None:
            return None  # raw pixels: no file of their own (their /Metadata is visited apart)
        return f"image-{num}{ext}", obj.get_data()  # pypdf leaves DCT/JPX data encoded: the file
    if kind == "/EmbeddedFile":
        given = names.get(ref) if ref else None
        return (f"attachment {given}" if given else f"attachment-{num}"), obj.get_data()
    if kind == "/Metadata" and subtype == "/XML" and ref != doc_xmp_ref:
        return f"xmp-{num}.xmp", obj.get_data()
    return None

