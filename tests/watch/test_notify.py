"""Notifications off the worker thread: the hook and apprise targets, from a real daemon."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from provenance.config import load_config
from provenance.errors import ConfigError
from provenance.ledger import Ledger
from provenance.model import Classification, Finding
from provenance.watch.daemon import Daemon
from provenance.watch.notify import Notifier
from tests.watch.conftest import open_at, png_bytes, sha, start_daemon, wait_for, write_show

SECRET = "s3cret-token-42"


class Received:
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, object]]] = []
        self.lock = threading.Lock()


@pytest.fixture
def http_server() -> Iterator[tuple[int, Received]]:
    """A real HTTP server on localhost that keeps every JSON POST it receives."""
    got = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with got.lock:
                got.posts.append((self.path, json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], got
    finally:
        server.shutdown()
        server.server_close()


def test_apprise_json_target_gets_the_finding_and_its_secret_is_never_logged(
        tmp_path: Path, http_server: tuple[int, Received], caplog: pytest.LogCaptureFixture) -> None:
    port, got = http_server
    show = tmp_path / "show"
    caplog.set_level(logging.DEBUG)
    daemon, ledger = start_daemon(show, f'[notify]\nurls = ["json://robot:{SECRET}@127.0.0.1:{port}/hook"]\n')
    try:
        a = show / "final" / "a.png"
        a.write_bytes(png_bytes(60, ai=True))
        wait_for(lambda: got.posts, what="the JSON POST")
        path, body = got.posts[0]
        assert path.startswith("/hook")
        finding = json.loads(str(body["message"]))
        assert finding["path"] == str(a) and finding["rule"] == "temporary-material"
        assert finding["sha256"] == sha(a.read_bytes())
        assert "temporary-material" in str(body["title"])
    finally:
        daemon.stop()
        ledger.close()
    assert caplog.records and SECRET not in caplog.text


def test_a_bad_target_url_refuses_to_start(tmp_path: Path) -> None:
    write_show(tmp_path / "show", f'[notify]\nurls = ["nosuchscheme://x:{SECRET}@host/"]\n')
    config = load_config(tmp_path / "show" / "provenance.toml")
    with Ledger.open(config.effective_ledger_url) as ledger:
        daemon = Daemon(config, ledger)
        with pytest.raises(ConfigError) as err:
            daemon.start()
        daemon.stop()
    assert "nosuchscheme://" in str(err.value) and SECRET not in str(err.value)


def test_a_slow_hook_never_delays_the_next_files_finding(tmp_path: Path) -> None:
    show = tmp_path / "show"
    out = tmp_path / "out"
    out.mkdir()
    # The first notification sleeps until the test says so (at most 8 s); the rest are instant.
    hook = f'[ -e "{out}/go" ] || sleep 8; echo "$PROVENANCE_FINDING_PATH" >> "{out}/sent"'
    # One worker: a hook run on it would visibly hold up the next file.
    daemon, ledger = start_daemon(show, f"notify_command = '{hook}'\n", workers=1)
    try:
        a, b = show / "final" / "a.png", show / "final" / "b.png"
        a.write_bytes(png_bytes(61, ai=True))
        wait_for(lambda: "temporary-material" in open_at(ledger, a), what="a's finding")
        b.write_bytes(png_bytes(62, ai=True))
        wait_for(lambda: "temporary-material" in open_at(ledger, b), what="b's finding")
        # b was judged while a's hook was still asleep: the hook is not on the worker thread.
        assert not (out / "sent").exists()
        (out / "go").touch()
        # Two findings each (temporary-material, unvetted-tool), notified in order.
        wait_for(lambda: (out / "sent").is_file() and len((out / "sent").read_text().split()) == 4,
                 what="every notification")
        assert (out / "sent").read_text().split() == [str(a), str(a), str(b), str(b)]
    finally:
        daemon.stop()
        ledger.close()


def test_a_full_queue_drops_with_a_warning_and_never_blocks(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    gate = tmp_path / "go"
    notifier = Notifier(lambda: (f'while [ ! -e "{gate}" ]; do sleep 0.05; done', ()), queue_size=1)
    findings = [Finding("temporary-material", "p", f"/show/final/{i}.png", None,
                        Classification.AI_GENERATED, "m") for i in range(4)]
    try:
        started = time.monotonic()
        notifier.submit(findings[0])
        wait_for(lambda: notifier._queue.qsize() == 0, what="the first to be taken")
        for f in findings[1:]:
            notifier.submit(f)  # one fits the queue, two are dropped
        assert time.monotonic() - started < 5
        assert notifier.dropped == 2
        assert sum("notification queue full" in r.getMessage() for r in caplog.records) == 2
    finally:
        gate.touch()
        notifier.close()
    assert notifier.sent == 2
