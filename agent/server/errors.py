"""Errors as JSON with one stable shape, and the request size limit.

Every error answer has the shape of the OpenAI API's errors, so OpenAI clients show the
message::

    {"error": {"type": "not_found_error", "code": "not_found", "message": "...", "param": null}}

``type`` is one of :data:`ERROR_TYPES`' values and ``code`` a short machine-readable reason.
Stack traces never reach clients: unexpected exceptions are logged and answered with a generic
``internal_error``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from confidante.errors import (
    ConfidanteError,
    ConfigurationError,
    InvalidInputError,
    ModelError,
    NotFoundError,
    SecretRefusedError,
)

logger = logging.getLogger(__name__)

#: The error ``type`` for each status code (anything else: ``api_error``).
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "internal_error",
    501: "not_implemented_error",
    502: "model_error",
    503: "unavailable_error",
}


class ErrorDetail(BaseModel):
    """The body of an error.

    Attributes:
        type: The kind of error (``invalid_request_error``, ``not_found_error``...).
        code: A short machine-readable reason (``invalid_api_key``, ``not_found``...).
        message: A human-readable explanation.
        param: The request field at fault, when there is one.
    """

    type: str
    code: str
    message: str
    param: str | None = None


class ErrorResponse(BaseModel):
    """What every error answers: ``{"error": {...}}``."""

    error: ErrorDetail


class ApiError(Exception):
    """An error to answer with a given status code and code.

    Args:
        status: The HTTP status.
        code: The machine-readable reason.
        message: The explanation.
        param: The request field at fault.
        headers: Extra response headers (``WWW-Authenticate``...).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.headers = headers


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build an error answer of the stable shape."""
    detail = ErrorDetail(
        type=ERROR_TYPES.get(status, "api_error"), code=code, message=message, param=param
    )
    return JSONResponse(
        ErrorResponse(error=detail).model_dump(mode="json"), status_code=status, headers=headers
    )


#: Responses every authenticated route can give, for the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Invalid request"},
    401: {"model": ErrorResponse, "description": "Missing or invalid API key"},
    403: {"model": ErrorResponse, "description": "The key may not do this"},
    413: {"model": ErrorResponse, "description": "Request body too large"},
    422: {
        "model": ErrorResponse,
        "description": "The request does not match the schema, or holds a secret that is not"
        " stored (code secret_refused)",
    },
    429: {"model": ErrorResponse, "description": "Too many requests for this key (Retry-After)"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such item for this key's user"},
}


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = exc.errors()
    if not errors:
        return "invalid request", None
    first = errors[0]
    location = [str(part) for part in first.get("loc", ()) if part not in ("body",)]
    param = ".".join(location) or None
    message = str(first.get("msg", "invalid value"))
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return (f"{param}: {message}{more}" if param else message + more), param


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of the app with the stable JSON shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(
            exc.status, exc.code, exc.message, param=exc.param, headers=exc.headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return error_response(
            exc.status_code,
            codes.get(exc.status_code, "http_error"),
            message,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        message, param = _validation_message(exc)
        return error_response(422, "invalid_request", message, param=param)

    @app.exception_handler(ConfidanteError)
    async def _confidante_error(_: Request, exc: ConfidanteError) -> JSONResponse:
        if isinstance(exc, NotFoundError):
            return error_response(404, "not_found", str(exc))
        if isinstance(exc, SecretRefusedError):  # well-formed, but not storable
            return error_response(422, "secret_refused", str(exc))
        if isinstance(exc, InvalidInputError):
            return error_response(400, "invalid_value", str(exc))
        if isinstance(exc, ModelError):
            logger.warning("chat model failed: %s", exc)
            return error_response(502, "model_error", "the chat model failed; try again")
        if isinstance(exc, ConfigurationError):
            logger.error("server configuration error: %s", exc)
        else:
            logger.exception("unexpected confidante error", exc_info=exc)
        return error_response(500, "internal_error", "internal server error")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", "internal server error")


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` with 413 (ASGI middleware).

    A declared ``Content-Length`` over the limit is refused before anything is read; a body
    without one is read up to the limit, then replayed to the app.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the body of an HTTP request, then pass it on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await self._refuse(scope, receive, send, 400, "invalid Content-Length")
                return
            if size > self.max_bytes:
                await self._refuse(scope, receive, send, 413, self._too_large())
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_bytes:
                await self._refuse(scope, receive, send, 413, self._too_large())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    def _too_large(self) -> str:
        return f"request body larger than {self.max_bytes} bytes"

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
        code = "request_too_large" if status == 413 else "invalid_request"
        response = error_response(status, code, text, headers={"Connection": "close"})
        await response(scope, receive, send)


class CatchAllMiddleware:
    """Answer any exception that escaped the app with the generic 500 (ASGI middleware).

    Starlette re-raises unhandled errors to the server after its own handler; this layer
    keeps them inside: the client always gets the stable JSON shape, never a dropped
    connection or a trace, and the error is logged here.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; answer 500 if it fails before its response started."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:  # the client gets the generic error, the log the details
            logger.exception("unhandled error", exc_info=exc)
            if not started:
                response = error_response(500, "internal_error", "internal server error")
                await response(scope, receive, send)


class SecurityHeadersMiddleware:
    """Add ``nosniff`` everywhere and the page's content policy outside ``/v1/`` (ASGI)."""

    def __init__(self, app: ASGIApp, page_policy: str) -> None:
        self.app = app
        self.page_policy = page_policy.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response's start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_page = not str(scope.get("path", "")).startswith("/v1/")

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                headers.append((b"x-content-type-options", b"nosniff"))
                if is_page:
                    headers.append((b"content-security-policy", self.page_policy))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, add_headers)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def json_error_text(status: int, code: str, message: str) -> str:
    """Return the stable error shape as JSON text (for errors inside an event stream)."""
    detail = ErrorDetail(type=ERROR_TYPES.get(status, "api_error"), code=code, message=message)
    return json.dumps(ErrorResponse(error=detail).model_dump(mode="json"))
