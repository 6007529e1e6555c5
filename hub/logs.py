"""Logging, configured once at start-up: JSON in production, readable console output in dev.

Every event passes `mask_identity_numbers` last before rendering, so no identity number leaves
the process in clear, however it is spaced and whoever wrote the log call (`hub.privacy`).
Per-message context (canonical id, correlation id, source event id) is bound with
`structlog.contextvars` for the duration of a handler.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any, Final

import structlog

from hub.privacy import mask_text
from schemas.identity import holds_valid_identity_number

__all__ = ["configure_logging", "mask_identity_numbers"]

_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DIGIT_RUNS: Final = re.compile(r"[0-9]+(?:-[0-9]+)*")


def _file_handler(path: Path, shared: list[structlog.typing.Processor]) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared[:-2],
            processors=[
                structlog.processors.format_exc_info,
                mask_identity_numbers,
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    handler.addFilter(_DropKnownNoise())
    return handler


def mask_identity_numbers(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> Mapping[str, Any]:
    """structlog processor: mask identity numbers in every string value of the event."""
    return {key: _mask_value(value) for key, value in event_dict.items()}


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return _mask_str(value)
    if isinstance(value, bytes | bytearray):
        return mask_text(bytes(value).decode("utf-8", errors="replace"))
    if isinstance(value, int) and not isinstance(value, bool):
        masked = mask_text(str(value))
        return value if masked == str(value) else masked
    if isinstance(value, Mapping):
        return {_mask_value(k): _mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_mask_value(v) for v in value]
    return value


def _mask_str(text: str) -> str:
    # The hub's own ids are UUIDs, and a UUID's hex now and then holds eleven decimal digits in
    # a row: masked, such an id can no longer be looked up. A value that is exactly a UUID is
    # masked only when its digits (dashes ignored) hold a valid number, as one made up to carry
    # a number would; eleven random digits pass both check digits about once in a hundred.
    if _UUID.fullmatch(text) and not any(
        holds_valid_identity_number(run.replace("-", "")) for run in _DIGIT_RUNS.findall(text)
    ):
        return text
    return mask_text(text)


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]  # stdlib generic over the stream type; ours is always a text stream
    """Writes to whatever `sys.stderr` is when a line is logged, not when logging was set up
    (test runners and CLI runners swap it)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        return None


class _DropKnownNoise(logging.Filter):
    """FastStream lines that say nothing here: topics are made on purpose, tasks end on stop."""

    _NOISE = ("Auto create topics is disabled", "is being executed...")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(noise in message for noise in self._NOISE)


class _StartupNoise(logging.Filter):
    """aiokafka says ERROR for what every start and every leader change goes through: no group
    coordinator yet, a node not ready. Kept off the terminal (the log file has it): a person
    is told of an outage by the hub's own lines (retries, dead letters, `/readyz`), not by
    each reconnect attempt."""

    _NORMAL = (
        "Group Coordinator Request failed",
        "CoordinatorNotAvailable",
        "NodeNotReadyError",
        "Unable connect to node",
        "Unable to request metadata",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("aiokafka"):
            return True
        message = record.getMessage()
        return not any(normal in message for normal in self._NORMAL)


def configure_logging(
    *,
    log_format: str,
    level: str = "INFO",
    quiet_clients: bool = False,
    log_file: Path | None = None,
) -> None:
    """Configure structlog and the standard library (FastStream, aiokafka) to render alike.

    `quiet_clients` is for one-shot commands, which report an unreachable broker in one line
    of their own: the client library's connection errors would only repeat it.

    With `log_file` (`hub run` at a terminal), the whole log at `level` goes there as JSON
    lines, and the terminal shows only warnings and errors: what needs a person.
    """
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        mask_identity_numbers,
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared[:-2], structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        # Not cached: the CLI configures twice (one-shot defaults, then `hub run`), and a cached
        # logger would keep the first configuration.
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared[:-2],
        processors=[
            structlog.processors.format_exc_info,
            mask_identity_numbers,
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderer,
        ],
    )
    handler = _CurrentStderr()
    handler.setFormatter(formatter)
    handler.addFilter(_DropKnownNoise())
    handlers: list[logging.Handler] = [handler]
    if log_file is not None:
        handler.setLevel(logging.WARNING)
        handler.addFilter(_StartupNoise())
        handlers.append(_file_handler(log_file, shared))
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level)
    # aiokafka logs every reconnect attempt at ERROR; our own code reports what it means.
    client_level = logging.CRITICAL if quiet_clients else logging.WARNING
    logging.getLogger("aiokafka").setLevel(max(client_level, logging.getLevelName(level)))
