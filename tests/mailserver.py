"""A real SMTP server on loopback (aiosmtpd), for the e-mail tests: it keeps every message it
accepted, can be taken down and brought back on the same port."""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class _Keeper:
    def __init__(self, box: MailServer):
        self.box = box

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.box.lock:
            self.box.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class MailServer:
    """``host``/``port``: where it listens; ``messages``: (recipients, message) received."""

    def __init__(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.host, self.port = "127.0.0.1", sock.getsockname()[1]
        sock.close()
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(_Keeper(self), hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for ``address``."""
        with self.lock:
            return [m for rcpt, m in self.messages if address in rcpt]

    def settings(self) -> dict:
        """The settings that send to this server."""
        return {"smtp_host": self.host, "smtp_port": self.port}
