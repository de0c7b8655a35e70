"""The dashboard's static page at /: one HTML file, its script and its style sheet, shipped as package data.

The Content-Security-Policy lets the page run only its own script and talk only to this gateway, so even a
cluster string that reached the page as markup could run nothing.
"""

from collections.abc import Callable
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import Response

FILES = {"/": ("index.html", "text/html"), "/dashboard.js": ("dashboard.js", "text/javascript"),
         "/dashboard.css": ("dashboard.css", "text/css")}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def install_page(app: FastAPI) -> None:
    """Serve the page's files (read once, at start)."""
    static = resources.files(__package__).joinpath("static")
    for path, (file, media_type) in FILES.items():
        body = static.joinpath(file).read_bytes()
        app.add_api_route(path, _serve(body, f"{media_type}; charset=utf-8"), methods=["GET"],
                          include_in_schema=False)


def _serve(body: bytes, media_type: str) -> Callable[[], Response]:
    def serve() -> Response:
        return Response(body, media_type=media_type, headers=HEADERS)

    return serve
