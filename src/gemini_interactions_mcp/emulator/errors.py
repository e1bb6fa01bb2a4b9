"""The error envelope of the Interactions API and its code ↔ HTTP status table.

Every failure the emulator reports is an :class:`ApiError`; the HTTP layer turns it into
``{"error": {"code": <string>, "message": <string>}}`` with the matching status.
"""

from __future__ import annotations

from typing import Any

# Reference §6.1; the first code listed for a status is the one a bare status maps to.
STATUS_CODES: dict[str, int] = {
    "invalid_request": 400,
    "failed_precondition": 400,
    "parameter_unknown": 400,
    "authentication": 401,
    "payment_required": 402,
    "permission_denied": 403,
    "not_found": 404,
    "model_not_found": 404,
    "already_exists": 409,
    "aborted": 409,
    "out_of_range": 416,
    "rate_limit_exceeded": 429,
    "quota_exceeded": 429,
    "too_many_requests": 429,
    "cancelled": 499,
    "api_error": 500,
    "unimplemented": 501,
    "service_unavailable": 503,
    "deadline_exceeded": 504,
}


def code_for_status(status: int) -> str:
    """The canonical string code for an HTTP status."""
    for code, code_status in STATUS_CODES.items():
        if code_status == status:
            return code
    if status == 408:
        return "deadline_exceeded"
    return "invalid_request" if status < 500 else "api_error"


def status_for_code(code: str) -> int:
    """The HTTP status of a string code; codes outside the table are server errors."""
    return STATUS_CODES.get(code, 500)


class ApiError(Exception):
    """A failure to report with the API's error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def envelope(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def invalid(message: str, *, code: str = "invalid_request") -> ApiError:
    """A 400 (or another status from the table) with the given code."""
    return ApiError(status_for_code(code), code, message)


def not_found(message: str, *, code: str = "not_found") -> ApiError:
    return ApiError(404, code, message)
