"""The admin console: web pages, JSON API, alerts and CLI to watch the integration, find a dossier, and replay."""
