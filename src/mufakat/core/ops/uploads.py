"""Upload checks shared by every module: size, extension and content sniffing, with clear errors."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# Leading bytes of binary formats we accept; text formats are checked by decoding.
MAGIC: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".zip": (b"PK\x03\x04",),
    ".kmz": (b"PK\x03\x04",),
    ".docx": (b"PK\x03\x04",),
}
TEXT_TYPES = frozenset(
    {".json", ".geojson", ".kml", ".csv", ".txt", ".nmea", ".md", ".xml", ".gpx"}
)


def _has_nul(f: UploadedFile[bytes]) -> bool:
    f.seek(0)
    try:
        return any(b"\x00" in chunk for chunk in f.chunks())
    finally:
        f.seek(0)


def check_upload(
    f: UploadedFile[bytes], *, allowed: Iterable[str], max_bytes: int | None = None
) -> str:
    """Validate an uploaded file; return its lower-case extension or raise ValidationError."""
    limit = max_bytes or settings.MUFAKAT_MAX_UPLOAD_BYTES
    allowed_set = {a.lower() for a in allowed}
    name = PurePath(f.name or "").name
    ext = PurePath(name).suffix.lower()
    if ext not in allowed_set:
        raise ValidationError(
            _("%(name)s: files of type “%(ext)s” are not accepted here (allowed: %(allowed)s).")
            % {"name": name, "ext": ext or "?", "allowed": ", ".join(sorted(allowed_set))}
        )
    size = f.size or 0
    if size > limit:
        raise ValidationError(
            _("%(name)s is %(size)s; the limit is %(limit)s.")
            % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(limit)}
        )
    if size == 0:
        raise ValidationError(_("%(name)s is empty.") % {"name": name})
    f.seek(0)
    head = f.read(8192)
    f.seek(0)
    if ext in MAGIC and not head.startswith(MAGIC[ext]):
        raise ValidationError(
            _("%(name)s does not look like a %(ext)s file.") % {"name": name, "ext": ext}
        )
    if ext in TEXT_TYPES:
        # The whole file, not only its head: a NUL further in used to be stored (and cannot be
        # stored at all on PostgreSQL).
        if b"\x00" in head or _has_nul(f):
            raise ValidationError(_("%(name)s is not a text file.") % {"name": name})
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the 8 KiB boundary is fine; anything earlier is not.
            if exc.start < len(head) - 4:
                raise ValidationError(_("%(name)s is not UTF-8 text.") % {"name": name}) from None
    return ext
