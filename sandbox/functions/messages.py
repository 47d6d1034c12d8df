"""Instant messages (core_message_send_instant_messages)."""

from __future__ import annotations

from typing import Any

from sandbox import access
from sandbox.params import M, Need, Param, S, Single, V, Value, default
from sandbox.registry import CallContext, ws_function
from sandbox.state import Message

_MESSAGE = Single(
    {
        "touserid": V(Param.INT),
        "text": V(Param.RAW),
        "textformat": default(V(Param.INT), 1),
        "clientmsgid": Value(Param.ALPHANUMEXT, Need.OPTIONAL),
    }
)


def _html(text: str) -> str:
    return text if text.lstrip().startswith("<") else f"<p>{text}</p>"


@ws_function("core_message_send_instant_messages", S(messages=M(_MESSAGE)))
def send_instant_messages(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Send messages one by one; an unknown recipient gets ``msgid`` -1 and a reason."""
    access.require_system(ctx.caller, "moodle/site:sendmessage")
    site = ctx.site
    results: list[dict[str, Any]] = []
    for row in params["messages"]:
        result: dict[str, Any] = {}
        recipient = site.users.get(row["touserid"])
        if recipient is None or recipient.deleted:
            result["msgid"] = -1
            if row.get("clientmsgid") is not None:
                result["clientmsgid"] = row["clientmsgid"]
            result["errormessage"] = (
                f"You cannot send a message to a user ID ({row['touserid']}) that doesn't exist."
            )
            result["candeletemessagesforallusers"] = False
            results.append(result)
            continue
        pair = frozenset({ctx.caller.userid, recipient.id})
        conversation = site.conversations.setdefault(pair, len(site.conversations) + 1)
        message = Message(
            id=site.ids.take("messages"),
            useridfrom=ctx.caller.userid,
            useridto=recipient.id,
            text=_html(row["text"]),
            timecreated=ctx.now,
            conversationid=conversation,
        )
        site.messages.append(message)
        result["msgid"] = message.id
        if row.get("clientmsgid") is not None:
            result["clientmsgid"] = row["clientmsgid"]
        result.update(
            {
                "text": message.text,
                "timecreated": message.timecreated,
                "conversationid": message.conversationid,
                "useridfrom": message.useridfrom,
                "candeletemessagesforallusers": True,
            }
        )
        results.append(result)
    return results
