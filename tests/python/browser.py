"""Headless Chromium for the browser tests (the dashboard, the Dagster UI): found or installed,
driven over the DevTools protocol on a pipe, with screenshots as test artifacts."""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import pytest
from filelock import FileLock

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def _installed() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium() -> str:
    found = _installed()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail("Chromium is not installed and cannot be: run `apt-get install chromium`")
    # One install at a time: the test processes that need a browser may ask at once, and a
    # second apt-get fails on dpkg's lock.
    with FileLock(os.path.join(tempfile.gettempdir(), "outcomes-chromium-install.lock")):
        found = _installed()
        if found:
            return found
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
            if done.returncode != 0:
                out = f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
                pytest.fail(f"{' '.join(cmd)} failed:\n{out}")
    found = shutil.which("chromium")
    if not found:
        pytest.fail("apt-get installed chromium but there is no `chromium` on PATH")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DevTools:
    """Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe)."""

    def __init__(self, binary: str, profile: Path, log: Path) -> None:
        to_chrome_r, self._write_fd = os.pipe()
        self._read_fd, from_chrome_w = os.pipe()

        def child_fds():
            # Chromium reads commands on fd 3 and writes replies on fd 4; park both ends high
            # first, as either may already be 3 or 4.
            os.dup2(to_chrome_r, 1000)
            os.dup2(from_chrome_w, 1001)
            os.dup2(1000, 3)
            os.dup2(1001, 4)
            os.close(1000)
            os.close(1001)

        with log.open("w") as err:
            self.proc = subprocess.Popen(
                [
                    binary,
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={profile}",
                    "--remote-debugging-pipe",
                    "--window-size=1400,1600",
                    "about:blank",
                ],
                preexec_fn=child_fds,
                close_fds=False,
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
            )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0

    def call(self, method: str, params: dict | None = None, session: str | None = None):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 60
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._next_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply["result"]
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"Chromium did not answer {method}"
            ready, _, _ = select.select([self._read_fd], [], [], remaining)
            if ready:
                chunk = os.read(self._read_fd, 1 << 20)
                assert chunk, "Chromium closed the DevTools pipe"
                self._buffer += chunk

    def open(self, url: str) -> str:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        session_id = session["sessionId"]
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1400, "height": 1600, "deviceScaleFactor": 1, "mobile": False},
            session_id,
        )
        self.call("Page.navigate", {"url": url}, session_id)
        return session_id

    def evaluate(self, expression: str, session: str):
        result = self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session
        )
        return result["result"].get("value")

    def screenshot(self, path: Path, session: str) -> None:
        data = self.call("Page.captureScreenshot", {"format": "png"}, session)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        with suppress(Exception):
            self.call("Browser.close")
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._write_fd)
        os.close(self._read_fd)
