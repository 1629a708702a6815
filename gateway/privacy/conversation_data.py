"""Conversations: the person's messages lose their words and attachments, the other side's stay without the person's
name or contacts, and the conversations name the pseudonym."""

from typing import Any

from documents.conversation import Conversation
from documents.conversation_message import ConversationMessage
from gateway.messaging.targets import user_room
from gateway.privacy.records import ERASED, as_json, id_or_pseudonym, mask_in_text
from gateway.privacy.redis_data import scrub_key
from gateway.privacy.registry import DataSubject, Exported, PersonalData
from gateway.services import Services


def _taking_part(subject: DataSubject) -> dict[str, Any]:
    either = [subject.user_id, subject.pseudonym]
    return {"$or": [{"guest_id": {"$in": either}}, {"host_id": {"$in": either}}, {"admin_ids": {"$in": either}}]}


def _name_parts(subject: DataSubject) -> list[str]:
    """What the other side writes to the person: their names whole, and each word of them (a first name) — only ever
    searched for in conversations the person took part in."""
    return [*subject.needles, *(part for name in subject.names for part in name.split() if len(part) >= 3)]


async def _erase_messages(subject: DataSubject, conversation_id: object) -> None:
    messages = ConversationMessage.get_pymongo_collection()
    await messages.update_many(
        {"conversation_id": conversation_id, "sender_id": {"$in": [subject.user_id, subject.pseudonym]}},
        {"$set": {"sender_id": subject.pseudonym, "text": ERASED, "masked_text": ERASED, "hid_contacts": False,
                  "attachment_ids": []}},
    )  # fmt: skip
    needles = _name_parts(subject)
    async for raw in messages.find({"conversation_id": conversation_id, "sender_id": {"$ne": subject.pseudonym}}):
        text, masked = mask_in_text(raw["text"], needles), mask_in_text(raw["masked_text"], needles)
        if (text, masked) != (raw["text"], raw["masked_text"]):
            await messages.update_one({"_id": raw["_id"]}, {"$set": {"text": text, "masked_text": masked}})


def _renamed(raw: dict[str, Any], subject: DataSubject) -> dict[str, Any]:
    """The conversation's fields naming the person, naming the pseudonym; their report's words gone, the others'
    reports without their name."""
    rename = {subject.user_id: subject.pseudonym}
    needles = _name_parts(subject)
    return {
        "guest_id": rename.get(raw["guest_id"], raw["guest_id"]),
        "host_id": rename.get(raw["host_id"], raw["host_id"]),
        "admin_ids": [rename.get(admin, admin) for admin in raw.get("admin_ids", [])],
        "read_up_to": {rename.get(reader, reader): mark for reader, mark in raw.get("read_up_to", {}).items()},
        "reports": [
            {**report, "by": subject.pseudonym, "details": ERASED}
            if report["by"] in rename
            else {**report, "details": mask_in_text(report["details"], needles)}
            for report in raw.get("reports", [])
        ],
    }


async def _forget_live_events(services: Services, subject: DataSubject, raw: dict[str, Any]) -> None:
    """The other participants' socket replay and pending push of the conversation lose the events naming the person
    (their own message saying the person's name among them): the Redis eraser finds only ids, emails and phones."""
    keys, needles = services.bus.keys, [needle.lower().encode() for needle in _name_parts(subject)]
    # A support conversation has no one on its other side (None there).
    others = {raw["guest_id"], raw["host_id"], *raw.get("admin_ids", [])} - {subject.user_id, subject.pseudonym, None}
    for other in others:
        await scrub_key(services.redis, keys.history(user_room(other)), needles)
        await scrub_key(services.redis, keys.pending_push(other, f"conversation:{raw['_id']}"), needles)


async def _erase_conversations(services: Services, subject: DataSubject) -> None:
    # Messages first: a rerun finds the conversation by the pseudonym and finishes them.
    conversations = Conversation.get_pymongo_collection()
    async for raw in conversations.find(_taking_part(subject)):
        await _erase_messages(subject, raw["_id"])
        await _forget_live_events(services, subject, raw)
        await conversations.update_one({"_id": raw["_id"]}, {"$set": _renamed(raw, subject)})


async def _export_conversations(services: Services, subject: DataSubject) -> Exported:
    """Each conversation the person took part in, and the messages they wrote in it (their attachments are among
    their files); the other side's messages are the other side's data."""
    conversations = [as_json(raw) async for raw in Conversation.get_pymongo_collection().find(_taking_part(subject))]
    for conversation in conversations:
        conversation["reports"] = [report for report in conversation["reports"] if report["by"] == subject.user_id]
    sent = ConversationMessage.get_pymongo_collection().find(id_or_pseudonym("sender_id")(subject))
    return Exported({"conversations": conversations, "messages_sent": [as_json(raw) async for raw in sent]})


CONVERSATIONS = PersonalData(
    "conversations",
    "conversations with hosts and guests: messages written, attachments, read marks, reports made",
    erase=_erase_conversations,
    export=_export_conversations,
)
