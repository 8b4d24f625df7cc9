"""Deterministic ZIPs for every export target: entries sorted, fixed timestamps and modes, so the
same content gives the same bytes (ARCHITECTURE.md → Deterministic artefacts)."""

import io
import zipfile

FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


def deterministic_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, entries[name])
    return buffer.getvalue()
