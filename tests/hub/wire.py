"""A tap on the simulators' wire: what they answered, byte for byte, and how many requests they served."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Asgi = Callable[..., Any]


class Tap:
    """Keeps every response body a simulator sends, as bytes on the wire (so also counts the requests it served)."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def wrap(self, create: Callable[..., Asgi]) -> Callable[..., Asgi]:
        def build(*args: Any, **kwargs: Any) -> Asgi:
            app = create(*args, **kwargs)

            async def tapped(scope: Any, receive: Any, send: Any) -> None:
                chunks: list[bytes] = []

                async def keep(message: Any) -> None:
                    if message["type"] == "http.response.body":
                        chunks.append(message.get("body", b""))
                        if not message.get("more_body"):
                            self.bodies.append(b"".join(chunks))
                    await send(message)

                await app(scope, receive, keep if scope["type"] == "http" else send)

            return tapped

        return build
