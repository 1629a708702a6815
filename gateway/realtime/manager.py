"""python-socketio's client manager, with each socket's rooms indexed and the sockets connecting or leaving kept in
dicts, so a connect or a disconnect costs the same at any size."""

from typing import Any

import socketio


class _SocketIds(dict[str, None]):
    """The list interface the stock manager uses for the sockets connecting or leaving, over a dict: its `in` and
    `remove` scan every socket in the list, which a storm of 10,000 connecting at once makes quadratic."""

    def append(self, sid: str) -> None:
        self[sid] = None

    def remove(self, sid: str) -> None:
        del self[sid]


class _SocketIdsByNamespace(dict[str, _SocketIds]):
    """Keeps the stock manager's `pending[namespace] = []` a `_SocketIds`."""

    def __setitem__(self, namespace: str, sids: Any) -> None:
        super().__setitem__(namespace, _SocketIds.fromkeys(sids))


class IndexedClientManager(socketio.AsyncManager):
    """The stock manager finds a leaving socket's rooms by testing every room of the namespace, and every socket
    has a room of its own: at 10,000 sockets one disconnect tests 10,000 rooms, and a node whose sockets all
    leave at once (a deploy, a network blip) spends about half a minute at full CPU. Here the rooms each
    socket is in are kept beside the stock structures, which stay as they are for everything else."""

    def __init__(self) -> None:
        super().__init__()
        self.pending_connect = _SocketIdsByNamespace()
        self.pending_disconnect = _SocketIdsByNamespace()
        self._rooms_of: dict[tuple[str, str], set[Any]] = {}

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: str | None = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._rooms_of[(namespace, sid)]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        return [room for room in self._rooms_of.get((namespace, sid), ()) if room is not None]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        # The stock method's work, with its scan of every room replaced by the socket's own rooms.
        for room in list(self._rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            sids = pending.get(namespace)
            if sids is not None and sid in sids:
                sids.remove(sid)
                if not sids:
                    del pending[namespace]
