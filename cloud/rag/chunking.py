"""Documents to chunks: plain text, Markdown and PDF, cut on paragraph and sentence boundaries,
each chunk carrying where it came from (page, heading) so an answer can cite it."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from cloud.common.errors import ApiError

CHUNK_CHARS = 800
OVERLAP_CHARS = 120
MAX_PAGES = 500


@dataclass
class Chunk:
    text: str
    page: int | None = None
    heading: str | None = None


def extract(data: bytes, content_type: str) -> list[tuple[str, int | None]]:
    """(text, page) blocks. Refuses what is not what it claims to be, with a code."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/pdf":
        return _pdf(data)
    if kind in ("text/plain", "text/markdown", "text/x-markdown"):
        try:
            return [(data.decode("utf-8"), None)]
        except UnicodeDecodeError as err:
            raise ApiError("the text is not UTF-8", code="RAG_BAD_TEXT", status=422) from err
    raise ApiError(
        f"documents are text/plain, text/markdown or application/pdf, not {kind or 'unknown'}",
        code="RAG_UNSUPPORTED_TYPE",
        status=415,
    )


def _pdf(data: bytes) -> list[tuple[str, int | None]]:
    if not data.startswith(b"%PDF-"):
        raise ApiError("this is not a PDF (no %PDF- header)", code="RAG_BAD_PDF", status=422)
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if len(reader.pages) > MAX_PAGES:
            raise ApiError(f"at most {MAX_PAGES} pages", code="RAG_TOO_MANY_PAGES", status=413)
        return [(page.extract_text() or "", n + 1) for n, page in enumerate(reader.pages)]
    except (PdfReadError, ValueError, KeyError, TypeError) as err:
        raise ApiError(f"the PDF cannot be read: {err}", code="RAG_BAD_PDF", status=422) from err


def chunk(blocks: list[tuple[str, int | None]], *, markdown: bool = False) -> list[Chunk]:
    out: list[Chunk] = []
    for text, page in blocks:
        heading = None
        for para in re.split(r"\n\s*\n", text):
            para = para.strip()
            if not para:
                continue
            if markdown and (m := re.match(r"^#{1,6}\s+(.+)$", para.splitlines()[0])):
                heading = m.group(1).strip()
            for piece in _windows(re.sub(r"\s+", " ", para)):
                out.append(Chunk(piece, page, heading))
    return _merge_small(out)


def _windows(text: str) -> list[str]:
    if len(text) <= CHUNK_CHARS:
        return [text]
    sentences = re.split(r"(?<=[.!?])\s+", text)
    pieces, current = [], ""
    for sentence in sentences:
        while len(sentence) > CHUNK_CHARS:  # a run-on "sentence": cut it
            pieces.append((current + " " + sentence[:CHUNK_CHARS]).strip())
            current, sentence = "", sentence[CHUNK_CHARS - OVERLAP_CHARS :]
        if len(current) + len(sentence) + 1 > CHUNK_CHARS:
            pieces.append(current.strip())
            current = current[-OVERLAP_CHARS:] + " " + sentence
        else:
            current = f"{current} {sentence}"
    if current.strip():
        pieces.append(current.strip())
    return pieces


def _merge_small(chunks: list[Chunk]) -> list[Chunk]:
    """Short paragraphs of one page and heading go together, so a chunk holds a thought."""
    out: list[Chunk] = []
    for c in chunks:
        last = out[-1] if out else None
        if (
            last
            and last.page == c.page
            and last.heading == c.heading
            and len(last.text) + len(c.text) < CHUNK_CHARS // 2
        ):
            last.text = f"{last.text}\n{c.text}"
        else:
            out.append(c)
    return out
