"""ASGI middleware: request bodies are bounded in size and read as JSON whatever Content-Type says.

The original API's clients post `data=json.dumps(...)` with `requests`, which sends no Content-Type.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cronflow.gateway.errors import answer


class JsonBodies:
    """Buffers each request body up to `max_bytes` (413 beyond) and presents it as application/json."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-type"]
        declared = next((v for k, v in headers if k.lower() == b"content-length"), b"0")
        too_large = answer(413, f"the body is larger than {self.max_bytes} bytes")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            await too_large(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await too_large(scope, receive, send)
                return
            if not message.get("more_body"):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        scope = {**scope, "headers": [*headers, (b"content-type", b"application/json")]}
        await self.app(scope, replay, send)
