"""Realtime delivery benchmark: the Lango gateway beside the Node.js Socket.IO reference, same load client, same run."""
