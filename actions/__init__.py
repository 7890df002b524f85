"""Thin rasa-sdk actions; the logic lives in the ``bot`` package."""
