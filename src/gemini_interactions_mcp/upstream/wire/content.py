"""Content blocks and the annotations on text (reference §2.2).

Audio, document and video blocks may say how the model should process them
(`processing`: a mode string, or a `static` object with ranges and layers; google-genai
3.6.1 added it to audio and documents, and `content_layers` to video).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, Tag

from ._base import UNKNOWN, UnknownModel, WireModel, fallback, open_tag

__all__ = [
    "Annotation",
    "AudioContent",
    "AudioProcessing",
    "AudioStaticProcessing",
    "Content",
    "DocumentContent",
    "DocumentProcessing",
    "DocumentStaticProcessing",
    "FileCitation",
    "ImageContent",
    "PageProcessingOptions",
    "PlaceCitation",
    "ReviewSnippet",
    "SpeechMetadata",
    "SpreadsheetProcessingOptions",
    "TextContent",
    "UnknownAnnotation",
    "UnknownContent",
    "UnknownProcessing",
    "UrlCitation",
    "VideoContent",
    "VideoProcessing",
    "VideoStaticProcessing",
    "WordInfo",
]


class _Span(WireModel):
    # Byte offsets into the annotated text.
    start_index: int | None = None
    end_index: int | None = None


class UrlCitation(_Span):
    """A web source backing a span of text."""

    type: Literal["url_citation"] = "url_citation"
    url: str | None = None
    title: str | None = None


class FileCitation(_Span):
    """A file (file search, uploaded document) backing a span of text."""

    type: Literal["file_citation"] = "file_citation"
    document_uri: str | None = None
    file_name: str | None = None
    source: str | None = None
    page_number: int | None = None
    media_id: str | None = None
    custom_metadata: dict[str, Any] | None = None


class ReviewSnippet(WireModel):
    """A review quoted by a place citation."""

    review_id: str | None = None
    title: str | None = None
    url: str | None = None


class PlaceCitation(_Span):
    """A Google Maps place backing a span of text."""

    type: Literal["place_citation"] = "place_citation"
    place_id: str | None = None
    name: str | None = None
    url: str | None = None
    review_snippets: list[ReviewSnippet] = Field(default_factory=list)


class SpeechMetadata(_Span):
    """Speaker and style of a span of generated speech."""

    type: Literal["speech_metadata"] = "speech_metadata"
    speaker: str | None = None
    style: str | None = None


class WordInfo(_Span):
    """Timing of one transcribed word."""

    type: Literal["word_info"] = "word_info"
    text: str | None = None
    start_offset: str | None = None
    end_offset: str | None = None
    speaker: str | None = None


class UnknownAnnotation(UnknownModel):
    """An annotation type this client does not know; `raw` keeps it."""

    type: Any = None


Annotation = Annotated[
    Annotated[UrlCitation, Tag("url_citation")]
    | Annotated[FileCitation, Tag("file_citation")]
    | Annotated[PlaceCitation, Tag("place_citation")]
    | Annotated[SpeechMetadata, Tag("speech_metadata")]
    | Annotated[WordInfo, Tag("word_info")]
    | Annotated[UnknownAnnotation, Tag(UNKNOWN)],
    open_tag("type", UnknownAnnotation),
    fallback(UnknownAnnotation),
]


class TextContent(WireModel):
    """Text, with optional citations and other annotations."""

    type: Literal["text"] = "text"
    text: str = ""
    annotations: list[Annotation] = Field(default_factory=list)


class _Media(WireModel):
    # Inline media is standard base64 in `data`; remote media is a `uri`.
    data: str | None = None
    uri: str | None = None
    mime_type: str | None = None


class UnknownProcessing(UnknownModel):
    """A processing object of a type this client does not know; `raw` keeps it."""

    type: Any = None


class _Segment(WireModel):
    # Offsets are decimal seconds with an "s" suffix, such as "10.5s".
    start_offset: str | None = None
    end_offset: str | None = None


class AudioStaticProcessing(_Segment):
    """Process one segment of the audio."""

    type: Literal["static"] = "static"


class VideoStaticProcessing(_Segment):
    """Process a segment of the video at a frame rate, with chosen layers."""

    type: Literal["static"] = "static"
    fps: float | None = None
    # "frames", "audio", "transcript" (open set).
    content_layers: list[str] | None = None


class PageProcessingOptions(WireModel):
    """Pages to read from a paginated document (1-based, inclusive) and which layers."""

    # "page_image", "page_text" (open set).
    content_layers: list[str] | None = None
    start_page: int | None = None
    end_page: int | None = None


class SpreadsheetProcessingOptions(WireModel):
    """Which sheet (1-based) and cells (A1 notation) of a spreadsheet, and which layers."""

    # "visual", "data", "formulas" (open set).
    content_layers: list[str] | None = None
    sheet_index: int | None = None
    visible_cells: str | None = None


class DocumentStaticProcessing(WireModel):
    """Page or spreadsheet options for processing a document."""

    type: Literal["static"] = "static"
    page_options: PageProcessingOptions | None = None
    spreadsheet_options: SpreadsheetProcessingOptions | None = None


# A mode string ("static", "agentic", ...) or an object; tried in this order so that an
# object of an unknown type is kept rather than rejected.
AudioProcessing = Annotated[
    AudioStaticProcessing | UnknownProcessing | str, Field(union_mode="left_to_right")
]
VideoProcessing = Annotated[
    VideoStaticProcessing | UnknownProcessing | str, Field(union_mode="left_to_right")
]
DocumentProcessing = Annotated[
    DocumentStaticProcessing | UnknownProcessing | str, Field(union_mode="left_to_right")
]


class ImageContent(_Media):
    """An image, inline or by URI."""

    type: Literal["image"] = "image"
    resolution: str | None = None


class AudioContent(_Media):
    """Audio, inline or by URI."""

    type: Literal["audio"] = "audio"
    channels: int | None = None
    sample_rate: int | None = None
    processing: AudioProcessing | None = None


class VideoContent(_Media):
    """A video, inline or by URI."""

    type: Literal["video"] = "video"
    name: str | None = None
    resolution: str | None = None
    processing: VideoProcessing | None = None


class DocumentContent(_Media):
    """A document (PDF, office formats, CSV), inline or by URI."""

    type: Literal["document"] = "document"
    resolution: str | None = None
    processing: DocumentProcessing | None = None


class UnknownContent(UnknownModel):
    """A content type this client does not know; `raw` keeps it."""

    type: Any = None


Content = Annotated[
    Annotated[TextContent, Tag("text")]
    | Annotated[ImageContent, Tag("image")]
    | Annotated[AudioContent, Tag("audio")]
    | Annotated[VideoContent, Tag("video")]
    | Annotated[DocumentContent, Tag("document")]
    | Annotated[UnknownContent, Tag(UNKNOWN)],
    open_tag("type", UnknownContent),
    fallback(UnknownContent),
]
