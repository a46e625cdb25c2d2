"""The XML namespace URIs of eGain's v12 bindings (api-notes §1.2, §1.5, §1.6).

eGain's XML puts each element in the namespace of the schema that defines it (`ns2:name` is a
platform element inside an activity document). The URIs are part of the wire format, so they
live here once, named after the schema, and codecs and routes refer to them by name.
"""

from __future__ import annotations

from typing import Final

_BASE: Final = "http://bindings.egain.com/ws/model/v12/gen"

ACTIVITY: Final = f"{_BASE}/interaction/activity"
PLATFORM: Final = f"{_BASE}/platform"
COMMON: Final = f"{_BASE}/common"  # also the namespace of the <error> envelope
ATTACHMENT: Final = f"{_BASE}/interaction/attachment"
CASE: Final = f"{_BASE}/interaction/case"
CUSTOMER: Final = f"{_BASE}/interaction/customer"
