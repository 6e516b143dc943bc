"""The viewer in a real browser: ``hamlet watch --web`` opened in headless Chromium.

Runs where Chromium (Debian's ``chromium``, which .ci/run installs), Playwright and
textual-serve are installed; skipped elsewhere. The page draws the terminal on a canvas,
so the text is read where it arrives: every message of the page's WebSocket is kept by
a script the test adds before the page's own, and the viewer's words must be in them.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from hamlet.runtime.runs import RunOptions, run_training

from ..conftest import tiny_pack

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine")
KEEP = """
(() => {
  window.__hamlet = [];
  const decode = (bytes) => new TextDecoder('utf-8').decode(bytes);
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    socket.addEventListener('message', ({ data }) => {
      if (typeof data === 'string') window.__hamlet.push(data);
      else if (data instanceof ArrayBuffer) window.__hamlet.push(decode(data));
      else if (data instanceof Blob) data.arrayBuffer().then((b) => window.__hamlet.push(decode(b)));
    });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})();
"""
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_page(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server ended: {server.communicate()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as page:
                if page.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


def test_the_viewer_in_a_browser(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    pytest.importorskip("textual_serve")
    pack = tiny_pack(tmp_path)
    run = run_training(RunOptions(pack=pack, episodes=2, agents=1, out=tmp_path / "runs"))
    port = free_port()
    command = [sys.executable, "-m", "hamlet.runtime.cli", "watch", "--web", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--checkpoint", str(run.run_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    shot = tmp_path / "page.png"
    try:
        wait_for_page(url, server)
        with playwright.sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.add_init_script(KEEP)
            page.goto(url)
            shown = ""
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not {"Meters", "energy"} <= set(shown.split()):
                page.wait_for_timeout(500)
                shown = ESCAPES.sub("", "".join(page.evaluate("window.__hamlet")))
            page.wait_for_timeout(1000)  # a few frames more, then the picture
            page.screenshot(path=str(shot))
            browser.close()
    finally:
        server.send_signal(signal.SIGINT)
        out, _ = server.communicate(timeout=30)
    assert f"open http://127.0.0.1:{port}" in out
    for word in ("Town", "Meters", "energy", "Q-values", "WAIT", "Survival", "Bed"):
        assert word in shown, f"{word!r} never reached the page"
    from PIL import Image

    with Image.open(shot) as picture:
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 16) or []
    assert len(colours) > 20  # not a blank page: text, bars and panels in many colours
    assert Path(shot).stat().st_size > 10_000
