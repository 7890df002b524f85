"""The website widget: demo page and static assets (see server.py)."""
