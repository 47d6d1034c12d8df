"""Direct messages: ``core_message_send_instant_messages``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from connector.client import MoodleClient
from connector.common import MoodleModel, batches_for, parse_list, to_params
from connector.errors import LmsProtocolError

SEND_INSTANT_MESSAGES = "core_message_send_instant_messages"


@dataclass(frozen=True)
class InstantMessage:
    """A message to one user; ``clientmsgid`` comes back with the result."""

    touserid: int
    text: str
    textformat: int = 1
    clientmsgid: str | None = None

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = to_params(self)
        return params


class SentMessage(MoodleModel):
    """What became of one message: ``msgid`` is -1 and ``errormessage`` set when refused."""

    msgid: int
    clientmsgid: str | None = None
    errormessage: str | None = None
    conversationid: int | None = None
    timecreated: int | None = None

    @property
    def sent(self) -> bool:
        return self.msgid > 0


class Messages:
    """Messaging web service functions."""

    def __init__(self, client: MoodleClient) -> None:
        self._client = client

    def send_instant_messages(
        self, messages: Sequence[InstantMessage]
    ) -> list[tuple[InstantMessage, SentMessage]]:
        """Send messages as the service user: ``core_message_send_instant_messages``.

        A message Moodle refuses (unknown recipient...) is not an exception: its result
        has ``sent`` false and Moodle's ``errormessage``.
        """
        results: list[tuple[InstantMessage, SentMessage]] = []
        for batch in batches_for(self._client, messages, InstantMessage.params):
            payload = self._client.call(
                SEND_INSTANT_MESSAGES,
                {"messages": [message.params() for message in batch]},
                write=True,
            )
            sent = parse_list(SentMessage, payload, SEND_INSTANT_MESSAGES)
            if len(sent) != len(batch):
                raise LmsProtocolError(
                    f"{len(sent)} results for {len(batch)} messages",
                    wsfunction=SEND_INSTANT_MESSAGES,
                )
            results.extend(zip(batch, sent, strict=True))
        return results
