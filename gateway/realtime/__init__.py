"""The realtime hub: the Socket.IO server, per-user delivery across nodes, recovery and presence."""

from gateway.realtime.server import create_socketio_server, mount_socketio

__all__ = ["create_socketio_server", "mount_socketio"]
