"""A fake Hugging Face Hub: a real HTTP server on 127.0.0.1 speaking the three calls a push makes.

``huggingface_hub``'s ``create_repo`` and ``upload_folder`` (``HfApi(endpoint=server.url)``) talk to it:

- ``POST /api/repos/create``: records the repository;
- ``POST /api/{type}s/{repo}/preupload/{revision}``: every file "regular" (no LFS or Xet upload step);
- ``POST /api/{type}s/{repo}/commit/{revision}``: NDJSON, each file's content base64 inline; recorded;
- ``POST /api/validate-yaml``: a card's front matter, which the client checks before a commit; recorded.

Anything else is answered 404 and recorded, so a test sees a call it did not expect.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeHub:
    def __init__(self, *, refuse: int | None = None) -> None:
        self.refuse = refuse  # answer every call with this HTTP status (401, 403, ...)
        self.repos: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, bytes]] = {}  # repo -> path -> content
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # method, path, headers (lower-case names)
        self.unexpected: list[str] = []
        self.validated: list[dict[str, Any]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                hub.requests.append(("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
                hub.unexpected.append(f"GET {self.path}")
                self._reply(404, {"error": "not served by the fake hub"})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hub.requests.append(("POST", self.path, {k.lower(): v for k, v in self.headers.items()}))
                if hub.refuse:
                    return self._reply(hub.refuse, {"error": "refused"})
                path = self.path.split("?")[0]
                if path == "/api/repos/create":
                    spec = json.loads(body)
                    repo = f"{spec.get('organization') or 'me'}/{spec['name']}"
                    hub.repos[repo] = spec
                    return self._reply(200, {"url": f"{hub.url}/{repo}", "name": repo})
                if path == "/api/validate-yaml":
                    hub.validated.append(json.loads(body))
                    return self._reply(200, {"errors": [], "warnings": []})
                parts = path.split("/")  # ['', 'api', 'models', owner, name, 'preupload'|'commit', revision]
                if len(parts) == 7 and parts[1] == "api" and parts[5] == "preupload":
                    files = json.loads(body)["files"]
                    return self._reply(200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                                       for f in files]})
                if len(parts) == 7 and parts[1] == "api" and parts[5] == "commit":
                    repo = f"{parts[3]}/{parts[4]}"
                    stored = hub.files.setdefault(repo, {})
                    for line in body.decode().splitlines():
                        item = json.loads(line)
                        if item.get("key") == "file":
                            stored[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                    return self._reply(200, {"commitUrl": f"{hub.url}/{repo}/commit/1", "commitOid": "1" * 40,
                                             "success": True})
                hub.unexpected.append(f"POST {path}")
                return self._reply(404, {"error": "not served by the fake hub"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeHub":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
