"""Fixtures shared by the operations tests."""

import io
import logging
from collections.abc import Iterator

import pytest
import structlog

from gateway.logs import configure_logging
from gateway.settings import LoggingSettings


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Configure JSON logging into a buffer, then put the previous configuration back."""
    root = logging.getLogger()
    saved_handlers, saved_level, saved_config = root.handlers[:], root.level, structlog.get_config()
    configure_logging(LoggingSettings(level="INFO", format="json"))
    buffer = io.StringIO()
    root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    yield buffer
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    structlog.configure(**saved_config)
