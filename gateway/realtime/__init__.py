"""The realtime hub: the Socket.IO server, per-user delivery across nodes, recovery and presence."""
