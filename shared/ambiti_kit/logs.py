"""Structured (JSON) logs with a correlation id per request.

The id comes from the ``X-Correlation-ID`` request header or is made up, is echoed in
the response, stored in a context variable, and added to every log record and every
problem+json body, so that a user's report can be matched to the logs.
"""

from __future__ import annotations

import logging
import sys
import uuid
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
HEADER = "x-correlation-id"


class _CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get()
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stderr; kafka-python's chatty loggers are held at WARNING/ERROR."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            static_fields={"service": service},
        )
    )
    handler.addFilter(_CorrelationFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # kafka-python 3 logs a WARNING for every slow event-loop task under load and
    # INFO for every connection; neither helps an operator.
    logging.getLogger("kafka").setLevel(logging.ERROR)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


class CorrelationIdMiddleware:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(HEADER.encode())
        cid = incoming.decode("latin-1")[:100] if incoming else uuid.uuid4().hex
        token = correlation_id.set(cid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((HEADER.encode(), cid.encode("latin-1")))
            await send(message)

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_id(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:  # noqa: BLE001 - answered here so that the 500 carries the correlation id
            logging.getLogger("ambiti.errors").exception("unhandled error on %s %s", scope.get("method"),
                                                         scope.get("path"))
            if started:
                raise
            from ambiti_kit.errors import internal_error_body
            body, headers = internal_error_body(scope.get("path", ""), cid)
            await send_with_id({"type": "http.response.start", "status": 500, "headers": headers})
            await send_with_id({"type": "http.response.body", "body": body})
        finally:
            correlation_id.reset(token)
