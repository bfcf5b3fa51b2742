"""Render a report in real headless Chromium: the DOM after layout, and a screenshot.

The page is rendered from a copy with one script appended that measures every element the
test asks about (`getBoundingClientRect`, computed style) and writes the result into the
DOM, which `--dump-dom` prints: visibility is what the browser laid out, not what the HTML
says. The report itself carries no script.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

WIDTH, HEIGHT = 1280, 2400

_MEASURE = """<script>
(() => {
  const out = [];
  const width = document.documentElement.clientWidth;
  for (const el of document.querySelectorAll(%s)) {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    out.push({id: el.id, cls: el.className, state: el.dataset.state || el.dataset.status || "",
              top: r.top + scrollY, left: r.left, right: r.right, height: r.height, width: width,
              shown: s.display !== "none" && s.visibility === "visible" && r.width > 0 && r.height > 0,
              text: el.innerText});
  }
  const pre = document.createElement("pre");
  pre.id = "measured";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


@dataclass
class Rendered:
    dom: str
    boxes: list[dict[str, object]]
    screenshot: Image.Image


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("headless Chromium not installed (./dev setup installs Debian's chromium)")
    return found


def render(html: Path, selector: str, tmp: Path) -> Rendered:
    """`html` rendered twice by Chromium: as it is (the screenshot), and with the measuring
    script (the DOM and the boxes of every element matching `selector`)."""
    exe = chromium()
    tmp.mkdir(parents=True, exist_ok=True)
    measured = tmp / "measured.html"
    text = html.read_text(encoding="utf-8")
    script = _MEASURE % json.dumps(selector)
    measured.write_text(text.replace("</body>", script + "</body>"), encoding="utf-8")
    base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={tmp / 'profile'}", f"--window-size={WIDTH},{HEIGHT}"]
    dom = subprocess.run([*base, "--dump-dom", measured.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    shot = tmp / "shot.png"
    subprocess.run([*base, f"--screenshot={shot}", html.as_uri()], capture_output=True, timeout=120,
                   check=True)
    m = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert m, "the measuring script did not run"
    boxes = json.loads(html_lib.unescape(m.group(1)))
    with Image.open(shot) as im:
        return Rendered(dom, boxes, im.convert("RGB"))


def colours(im: Image.Image) -> set[tuple[int, int, int]]:
    return {c for _, c in im.getcolors(maxcolors=1 << 20) or []}
