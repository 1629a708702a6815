"""The indexed client manager keeps python-socketio's view of sockets and rooms exactly as the stock one does."""

import socketio

from gateway.realtime.manager import IndexedClientManager


async def connected(manager: socketio.AsyncManager, sockets: int) -> list[str]:
    manager.set_server(socketio.AsyncServer(async_mode="aiohttp", client_manager=manager))
    return [await manager.connect(f"eio{number}", "/") for number in range(sockets)]


async def rooms_after_a_session(manager: socketio.AsyncManager) -> dict[str, object]:
    """Joins, leaves, a closed room and disconnects; the outcome with sockets named by connection order."""
    sids = await connected(manager, 30)
    for number, sid in enumerate(sids):
        await manager.enter_room(sid, "/", f"group{number % 3}")
    await manager.leave_room(sids[1], "/", "group1")
    await manager.close_room("group2", "/")
    for sid in sids[::2]:
        manager.pre_disconnect(sid, "/")
        await manager.disconnect(sid, "/")
    manager.pre_disconnect(sids[3], "/")  # still leaving
    sids += [await manager.pre_connect(f"eio-late{number}", "/") for number in range(3)]  # still connecting
    await manager.connect(sids[-2], "/")
    name = {sid: f"socket{number}" for number, sid in enumerate(sids)}
    return {
        "rooms": {name.get(room, room): sorted(name[sid] for sid in members) for room, members in manager.rooms["/"].items()},
        "rooms of each": {name[sid]: sorted(name.get(room, room) for room in manager.get_rooms(sid, "/")) for sid in sids},
        "disconnecting": {namespace: [name[sid] for sid in pending] for namespace, pending in manager.pending_disconnect.items()},
        "connecting": {namespace: [name[sid] for sid in pending] for namespace, pending in manager.pending_connect.items()},
    }


async def test_joins_leaves_and_disconnects_end_as_with_the_stock_manager() -> None:
    indexed = await rooms_after_a_session(IndexedClientManager())

    assert indexed == await rooms_after_a_session(socketio.AsyncManager())
    assert len(indexed["rooms"][None]) == 15 + 3  # type: ignore[index]  # 15 of the first 30 left, 3 came late


async def test_a_disconnect_looks_only_at_the_leaving_sockets_own_rooms() -> None:
    manager = IndexedClientManager()
    sids = await connected(manager, 2_000)
    scans = 0

    class WatchedRooms(dict):  # type: ignore[type-arg]
        def copy(self) -> dict:  # type: ignore[type-arg]
            nonlocal scans
            scans += 1
            return super().copy()

        def items(self):  # type: ignore[no-untyped-def]
            nonlocal scans
            scans += 1
            return super().items()

    manager.rooms["/"] = WatchedRooms(manager.rooms["/"])
    await manager.disconnect(sids[7], "/")

    assert scans == 0, "no walk over the namespace's 2,001 rooms"
    assert sids[7] not in manager.rooms["/"][None] and sids[7] not in manager.rooms["/"]
    assert len(manager.rooms["/"][None]) == 1_999
