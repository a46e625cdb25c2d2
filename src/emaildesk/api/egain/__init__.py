"""The eGain dialects: Interaction API v12 (`/system/ws/v12`, `/ws/v12`) and Case Manager v3
(`/core/casemgr/v3`), sharing one error envelope, query-parameter rules and XML namespaces."""
