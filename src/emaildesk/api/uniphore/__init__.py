"""The Uniphore dialect: conversation-analytics contact ingestion (`routes.py`), emaildesk's
read-side extension (`conversations.py`), the error envelope (`errors.py`), bearer API keys
(`auth.py`), and the client the export connector posts with (`client.py`)."""
