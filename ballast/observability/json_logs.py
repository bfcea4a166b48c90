"""One JSON object per line for each log record (LOG_FORMAT=json), for a log shipper to read.

Fields: time (UTC, ISO 8601), level, logger, message, process; the ids bound with
bots.platform.log_context (market, venue, fill, hedge, transfer) and those given as
`extra={...}` under the same names; `exception` with the traceback when there is one.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from bots.platform.log_context import FIELDS, bound


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        line |= bound()
        line |= {name: getattr(record, name) for name in FIELDS if hasattr(record, name)}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)
