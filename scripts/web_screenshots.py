"""Screenshots of every page of ``derivekit serve`` in Debian's headless Chromium, for
README.md and docs/web.md: ``python scripts/web_screenshots.py http://127.0.0.1:8000``.

Needs the web extra, selenium, and Debian's chromium and chromium-driver.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlencode

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"
PAGES = {
    "web-home": "/",
    "web-derive": "/derive?" + urlencode({"expr": "sigmoid(w*x + b)", "wrt": "w"}),
    "web-tangent": "/derive?" + urlencode({"expr": "x^3 - 2*x", "wrt": "x", "at": "1"}),
    "web-check": "/check?" + urlencode({"expr": "sigmoid(w*x)", "claim": "sigmoid(w*x)*(1 - sigmoid(w*x))",
                                        "wrt": "w"}),
    "web-matrix": "/matrix?" + urlencode({"mode": "matgrad", "loss": "norm2(W@x + b - y)", "wrt": "W",
                                          "shapes": "W=3x4,x=4x1,b=3x1,y=3x1"}),
    "web-descend": "/descend?" + urlencode({"expr": "x^2 + 10*y^2", "start": "x=1,y=1", "compare": "gd,momentum,adam",
                                            "lr": "0.05", "steps": "60"}),
    "web-linalg": "/linalg?" + urlencode({"op": "eig", "matrix": "[[2,1],[1,2]]"}),
    "web-drill": "/drill?" + urlencode({"topic": "chain_rule", "seed": "1", "answer": "3*(3*x + 5)^2"}),
}


def main(base: str) -> None:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,900",
                "--hide-scrollbars"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        for name, path in PAGES.items():
            driver.get(base + path)
            if name == "web-derive":
                for summary in driver.find_elements(By.CSS_SELECTOR, "details.substeps > summary")[:1]:
                    summary.click()
            if name in ("web-tangent", "web-descend"):
                target = driver.find_elements(By.CSS_SELECTOR, "figure.graph, img.figure")
                if target:
                    driver.execute_script("arguments[0].scrollIntoView()", target[0])
            driver.save_screenshot(str(OUT / f"{name}.png"))
            print("wrote", OUT / f"{name}.png")
    finally:
        driver.quit()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
