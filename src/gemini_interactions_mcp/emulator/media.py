"""Checks of the media options on content blocks: ``processing`` and ``resolution``.

As google-genai 3.6.1 types them: audio, document and video take ``processing`` as a
mode string or a ``static`` object — an audio or video segment (offsets like ``"10.5s"``),
video frames per second and content layers, document page ranges (1-based, inclusive)
or a spreadsheet's sheet and cells, with their content layers. Documents also take a
``resolution``. Anything else is a 400 ``invalid_request`` that names the field.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import invalid

RESOLUTIONS = frozenset({"low", "medium", "high", "ultra_high"})
PROCESSING_MODES = {
    "audio": frozenset({"static"}),
    "document": frozenset({"static"}),
    "video": frozenset({"static", "agentic"}),
}
VIDEO_LAYERS = frozenset({"frames", "audio", "transcript"})
PAGE_LAYERS = frozenset({"page_image", "page_text"})
SPREADSHEET_LAYERS = frozenset({"visual", "data", "formulas"})
_OFFSET = re.compile(r"^\d+(\.\d+)?s$")
_CELLS = re.compile(r"^[A-Za-z]+\d+(:[A-Za-z]+\d+)?$")


def check_media(block: dict[str, Any], where: str) -> None:
    """Validate the processing options of one content block (of any type)."""
    kind = block["type"]
    if kind == "document" and "resolution" in block and block["resolution"] not in RESOLUTIONS:
        raise invalid(
            f"The value '{block['resolution']}' is not supported for 'resolution' at '{where}'."
        )
    if "processing" not in block or kind not in PROCESSING_MODES:
        return
    processing = block["processing"]
    here = f"{where}.processing"
    if isinstance(processing, str):
        if processing not in PROCESSING_MODES[kind]:
            raise invalid(f"The value '{processing}' is not supported for '{here}'.")
        return
    if not isinstance(processing, dict):
        raise invalid(f"Invalid value at '{here}': expected a string or an object.")
    if processing.get("type") != "static":
        raise invalid(
            f"The value '{processing.get('type')}' is not supported for 'type' at '{here}'."
        )
    if kind == "document":
        _check_document(processing, here)
        return
    _check_segment(processing, here)
    if kind == "video":
        fps = processing.get("fps")
        if fps is not None and (not _is_number(fps) or fps <= 0):
            raise invalid(f"Invalid value at '{here}.fps': expected a positive number.")
        _check_layers(processing, VIDEO_LAYERS, here)


def _check_segment(processing: dict[str, Any], where: str) -> None:
    seconds: dict[str, float] = {}
    for name in ("start_offset", "end_offset"):
        value = processing.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not _OFFSET.match(value):
            raise invalid(f"Invalid value at '{where}.{name}': expected seconds such as '10.5s'.")
        seconds[name] = float(value[:-1])
    end = seconds.get("end_offset")
    if end is not None and end <= seconds.get("start_offset", 0.0):
        raise invalid(
            f"Invalid value at '{where}.end_offset': it must be positive and after 'start_offset'."
        )


def _check_document(processing: dict[str, Any], where: str) -> None:
    pages = processing.get("page_options")
    if pages is not None:
        here = f"{where}.page_options"
        _expect_object(pages, here)
        _check_layers(pages, PAGE_LAYERS, here)
        start, end = pages.get("start_page"), pages.get("end_page")
        for name, value in (("start_page", start), ("end_page", end)):
            if value is not None and (not _is_int(value) or value < 1):
                raise invalid(f"Invalid value at '{here}.{name}': expected a page number from 1.")
        if start is not None and end is not None and end < start:
            raise invalid(f"Invalid value at '{here}': 'end_page' must not be before 'start_page'.")
    sheet = processing.get("spreadsheet_options")
    if sheet is not None:
        here = f"{where}.spreadsheet_options"
        _expect_object(sheet, here)
        _check_layers(sheet, SPREADSHEET_LAYERS, here)
        index = sheet.get("sheet_index")
        if index is not None and (not _is_int(index) or index < 1):
            raise invalid(f"Invalid value at '{here}.sheet_index': expected a sheet number from 1.")
        cells = sheet.get("visible_cells")
        if cells is not None and (not isinstance(cells, str) or not _CELLS.match(cells)):
            raise invalid(f"Invalid value at '{here}.visible_cells': expected A1 notation.")


def _check_layers(options: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    layers = options.get("content_layers")
    if layers is None:
        return
    if not isinstance(layers, list):
        raise invalid(f"Invalid value at '{where}.content_layers': expected a list.")
    for layer in layers:
        if layer not in allowed:
            raise invalid(f"The value '{layer}' is not supported for '{where}.content_layers'.")


def _expect_object(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise invalid(f"Invalid value at '{where}': expected an object.")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
