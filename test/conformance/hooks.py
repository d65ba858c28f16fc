"""Schemathesis checks for what di-openapi.yaml documents in prose only: the paging headers of /events.

Loaded with SCHEMATHESIS_HOOKS=hooks (test/conformance on PYTHONPATH) by test/conformance/schemathesis.test.ts.
"""
import json
import re
from datetime import datetime

import schemathesis

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _header(response, name):
    for key, value in response.headers.items():
        if key.lower() == name.lower():
            return value[0] if isinstance(value, list) else value
    return None


def _epoch_ms(timestamp):
    # RFC 3339 with up to nanoseconds: the millisecond is what X-Search_after carries.
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", timestamp)
    if not m:
        raise AssertionError(f"event timestamp {timestamp!r} is not RFC 3339")
    base = datetime.fromisoformat(m.group(1) + (m.group(3).replace("Z", "+00:00")))
    frac = (m.group(2) or ".0")[1:]
    return int(base.timestamp()) * 1000 + int(frac[:3].ljust(3, "0"))


@schemathesis.check
def di_paging_headers(ctx, response, case):
    """X-Result-Count, X-Limit, X-Sort, X-Request-Id and X-Search_after on every 200 of POST /events."""
    if case.operation.path != "/events" or response.status_code != 200:
        return None
    events = json.loads(response.content)
    count = _header(response, "X-Result-Count")
    limit = _header(response, "X-Limit")
    sort = _header(response, "X-Sort")
    request_id = _header(response, "X-Request-Id")
    after = _header(response, "X-Search_after")
    assert count is not None and count.isdigit(), f"X-Result-Count missing or not a count: {count!r}"
    assert int(count) == len(events), f"X-Result-Count {count} but {len(events)} events in the body"
    assert limit is not None and limit.isdigit() and 1 <= int(limit) <= 10000, f"X-Limit missing or outside 1..10000: {limit!r}"
    assert len(events) <= int(limit), f"{len(events)} events, more than X-Limit {limit}"
    assert sort in ("ASC", "DESC"), f"X-Sort must be ASC or DESC, not {sort!r}"
    assert request_id is not None and UUID.match(request_id), f"X-Request-Id missing or not a UUID: {request_id!r}"
    if events:
        assert after is not None, "X-Search_after missing on a non-empty page"
        cursor = json.loads(after)
        last = events[-1]
        assert cursor == [_epoch_ms(last["timestamp"]), last["id"]], f"X-Search_after {after} is not [epoch ms, id] of the last event"
    return True
