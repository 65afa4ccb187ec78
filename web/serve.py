"""Serve the built help page (web/dist) on localhost, with the standard library only.

The page calls the Rasa REST channel directly (no proxy here); /config.json tells it
where that is. Environment:
  PAGE_PORT  port to listen on (default 8080)
  PAGE_HOST  address to bind (default 127.0.0.1)
  RASA_URL   the Rasa server as the browser reaches it (default http://localhost:$RASA_PORT,
             RASA_PORT defaulting to 5005)
  PAGE_DIR   folder to serve (default web/dist beside this file)
"""

from __future__ import annotations

import json
import os
import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent


def rasa_url() -> str:
    url = os.environ.get("RASA_URL") or f"http://localhost:{os.environ.get('RASA_PORT', '5005')}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SystemExit(f"RASA_URL must be an http(s) URL, got {url!r}")
    return url.rstrip("/")


def security_headers(rasa: str) -> dict[str, str]:
    parts = urlsplit(rasa)
    origin = f"{parts.scheme}://{parts.netloc}"
    # Only our own files run; the page may talk to the Rasa server and nothing else.
    csp = (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        f"font-src 'self'; connect-src 'self' {origin}; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


class PageHandler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".html": "text/html; charset=utf-8",
        ".json": "application/json; charset=utf-8",
    }

    def __init__(self, *args, config: bytes, headers: dict[str, str], **kwargs) -> None:
        self._config, self._headers = config, headers
        super().__init__(*args, **kwargs)

    def end_headers(self) -> None:
        for name, value in self._headers.items():
            self.send_header(name, value)
        super().end_headers()

    def do_GET(self) -> None:
        if urlsplit(self.path).path == "/config.json":
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(self._config)))
            self.end_headers()
            self.wfile.write(self._config)
            return
        super().do_GET()

    def send_head(self):
        if any(part.startswith(".") for part in urlsplit(self.path).path.split("/")):
            self.send_error(404)  # no dotfiles (the build stamp)
            return None
        return super().send_head()

    def list_directory(self, path):  # no folder listings
        self.send_error(404)
        return None

    def log_message(self, format: str, *args) -> None:
        if os.environ.get("PAGE_QUIET") != "1":
            super().log_message(format, *args)


def make_server(host: str, port: int, folder: Path, rasa: str) -> ThreadingHTTPServer:
    config = json.dumps({"rasaUrl": rasa}).encode()
    handler = partial(PageHandler, directory=str(folder), config=config, headers=security_headers(rasa))
    return ThreadingHTTPServer((host, port), handler)


def main() -> None:
    folder = Path(os.environ.get("PAGE_DIR") or HERE / "dist")
    if not (folder / "index.html").is_file():
        raise SystemExit(f"{folder}/index.html not found: run web/build.sh first.")
    host = os.environ.get("PAGE_HOST", "127.0.0.1")
    port = int(os.environ.get("PAGE_PORT", "8080"))
    server = make_server(host, port, folder, rasa_url())
    shown = "localhost" if host in ("127.0.0.1", "localhost") else host
    print(f"Help page: http://{shown}:{server.server_address[1]}/  (Rasa: {rasa_url()})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
