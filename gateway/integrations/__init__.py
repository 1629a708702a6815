"""Server-to-server integrations: their API keys, and the agent each acts for."""
