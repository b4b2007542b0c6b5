"""Checks on uploaded files: size first, then the type sniffed from the bytes themselves.

The client's file name and declared content type are never trusted: a photo must start with
the magic bytes of JPEG, PNG, WebP or HEIC; a roster must be an .xlsx (a zip holding
xl/workbook.xml) or UTF-8/GB18030 text.
"""

from __future__ import annotations

import zipfile

from django.core.files import File

from core.errors import field_error

from .error_codes import CommunityErrorCode

PHOTO_TYPES = {  # content type -> extension
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
}


def check_size(upload: File[bytes], max_bytes: int, field: str) -> None:
    size = getattr(upload, "size", None)
    if size is None or size > max_bytes:
        raise field_error(field, f"The file is too large: at most {max_bytes // 1024} KB.", CommunityErrorCode.FILE_TOO_LARGE)
    if size == 0:
        raise field_error(field, "The file is empty.", CommunityErrorCode.UNSUPPORTED_FILE_TYPE)


def _head(upload: File[bytes], n: int = 32) -> bytes:
    upload.seek(0)
    head: bytes = upload.read(n)  # django-stubs types File.read as Any
    upload.seek(0)
    return head


def sniff_photo(upload: File[bytes], max_bytes: int, field: str = "photo") -> str:
    """The photo's real content type; ValidationError if it is not an accepted image."""
    check_size(upload, max_bytes, field)
    head = _head(upload)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis"):
        return "image/heic"
    raise field_error(field, "Send a JPEG, PNG, WebP or HEIC photo.", CommunityErrorCode.UNSUPPORTED_FILE_TYPE)


def sniff_roster(upload: File[bytes], max_bytes: int, field: str = "file") -> str:
    """"xlsx" or "csv"; ValidationError for anything else (old .xls, PDFs, images, ...)."""
    check_size(upload, max_bytes, field)
    head = _head(upload, 8)
    if head.startswith(b"PK\x03\x04"):
        try:
            upload.seek(0)
            with zipfile.ZipFile(upload) as archive:
                if "xl/workbook.xml" in archive.namelist():
                    return "xlsx"
        except zipfile.BadZipFile:
            pass
        finally:
            upload.seek(0)
    elif b"\x00" not in _head(upload, 4096) and not head.startswith(b"\xd0\xcf\x11\xe0"):
        return "csv"
    raise field_error(field, "Send the roster as .xlsx or .csv (old .xls files: save as .xlsx first).", CommunityErrorCode.UNSUPPORTED_FILE_TYPE)
