"""Each stamped certificate carries only the glyphs it draws: HarfBuzz's subsetter
(libharfbuzz-subset, the library WeasyPrint cuts its own fonts with; `make` installs it),
called through cffi, keeping glyph ids so that the fonts' widths and ToUnicode maps stay
valid. About 0.05 ms a font; the bold cut shrinks from 16 KiB to about 2 KiB compressed.

Without the library, the whole cut font goes in (stamp_font.py), as correct and larger."""

from __future__ import annotations

import threading

import cffi

from certificates.stamp_font import StampFont

_ffi = cffi.FFI()
_ffi.cdef("""
typedef struct hb_blob_t hb_blob_t;
typedef struct hb_face_t hb_face_t;
typedef struct hb_set_t hb_set_t;
typedef struct hb_subset_input_t hb_subset_input_t;
hb_blob_t *hb_blob_create(const char *data, unsigned int length, int mode, void *user_data,
                          void *destroy);
void hb_blob_destroy(hb_blob_t *blob);
const char *hb_blob_get_data(hb_blob_t *blob, unsigned int *length);
hb_face_t *hb_face_create(hb_blob_t *blob, unsigned int index);
void hb_face_destroy(hb_face_t *face);
hb_blob_t *hb_face_reference_blob(hb_face_t *face);
void hb_set_add(hb_set_t *set, unsigned int codepoint);
hb_subset_input_t *hb_subset_input_create_or_fail(void);
void hb_subset_input_destroy(hb_subset_input_t *input);
hb_set_t *hb_subset_input_glyph_set(hb_subset_input_t *input);
void hb_subset_input_set_flags(hb_subset_input_t *input, unsigned int value);
hb_face_t *hb_subset_or_fail(hb_face_t *source, const hb_subset_input_t *input);
""")
_READONLY = 1  # HB_MEMORY_MODE_READONLY: HarfBuzz reads our buffer, which we keep alive
_NO_HINTING, _RETAIN_GIDS = 0x1, 0x2


def _open():
    try:
        return _ffi.dlopen("libharfbuzz.so.0"), _ffi.dlopen("libharfbuzz-subset.so.0")
    except OSError:
        return None


_libraries = _open()
_faces: dict[str, tuple] = {}
_lock = threading.Lock()


def available() -> bool:
    return _libraries is not None


def _face(font: StampFont):
    """The font's HarfBuzz face, made once per process (HarfBuzz faces are thread-safe)."""
    with _lock:
        if font.name not in _faces:
            harfbuzz, _subset = _libraries
            data = _ffi.new("char[]", font.data)  # kept alive beside the face
            blob = harfbuzz.hb_blob_create(data, len(font.data), _READONLY, _ffi.NULL,
                                           _ffi.NULL)
            _faces[font.name] = (harfbuzz.hb_face_create(blob, 0), data, blob)
        return _faces[font.name][0]


def font_file(font: StampFont, text: str) -> bytes:
    """The font file to embed for text: only its glyphs (and .notdef), glyph ids kept; the
    whole cut font when HarfBuzz is not there or fails."""
    if _libraries is None:
        return font.data
    harfbuzz, subset = _libraries
    face = _face(font)
    request = subset.hb_subset_input_create_or_fail()
    if request == _ffi.NULL:
        return font.data
    try:
        glyphs = subset.hb_subset_input_glyph_set(request)
        harfbuzz.hb_set_add(glyphs, 0)
        for glyph in {font.glyphs[c] for c in text}:
            harfbuzz.hb_set_add(glyphs, glyph)
        subset.hb_subset_input_set_flags(request, _RETAIN_GIDS | _NO_HINTING)
        result = subset.hb_subset_or_fail(face, request)
    finally:
        subset.hb_subset_input_destroy(request)
    if result == _ffi.NULL:
        return font.data
    blob = harfbuzz.hb_face_reference_blob(result)
    try:
        length = _ffi.new("unsigned int *")
        data = harfbuzz.hb_blob_get_data(blob, length)
        return _ffi.buffer(data, length[0])[:] if length[0] else font.data
    finally:
        harfbuzz.hb_blob_destroy(blob)
        harfbuzz.hb_face_destroy(result)
