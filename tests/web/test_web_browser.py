"""End to end in a real headless Chromium (Debian's chromium + chromium-driver, via Selenium).

Type an expression, submit, see the steps as MathML, unfold a sub-step, check a wrong claim
and read the diagnosis, check a claimed softmax Jacobian; the same with JavaScript off; a screenshot of each page that is not
blank. Skipped where the browser is not installed (.ci/run installs it).
"""

import io
import os
import shutil
from urllib.parse import urlencode

import pytest

webdriver = pytest.importorskip("selenium.webdriver")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
    pytest.skip("Debian's chromium and chromium-driver are not installed", allow_module_level=True)

from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SHOTS = os.environ.get("DERIVEKIT_SCREENSHOTS")  # a folder to keep the screenshots in


def browser(javascript: bool):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1100,1300", "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    return driver


@pytest.fixture(scope="module", params=[True, False], ids=["js-on", "js-off"])
def chrome(request):
    driver = browser(request.param)
    driver.javascript = request.param
    yield driver
    driver.quit()


def assert_not_blank(driver, name):
    png = driver.get_screenshot_as_png()
    from PIL import Image  # matplotlib's dependency, installed with the test extra
    image = Image.open(io.BytesIO(png)).convert("L")
    colours = image.getcolors(maxcolors=1 << 16) or []
    assert len(colours) > 20, f"{name}: the screenshot is blank"
    dark = sum(count for count, value in colours if value < 128)
    assert dark > 500, f"{name}: no text on the screenshot"
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        with open(os.path.join(SHOTS, f"{name}.png"), "wb") as handle:
            handle.write(png)


def test_derive_then_check_a_wrong_claim(chrome, live_server):
    wait = WebDriverWait(chrome, 60)
    suffix = "js" if chrome.javascript else "nojs"
    chrome.get(live_server + "/")
    assert chrome.execute_script("return 1") == 1 if chrome.javascript else True
    box = chrome.find_element(By.ID, "expr")
    box.send_keys("sigmoid(w*x + b)")
    chrome.find_element(By.NAME, "wrt").send_keys("w")
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "ol.steps li.step")))
    assert "/derive?expr=sigmoid" in chrome.current_url  # a shareable GET URL
    steps = chrome.find_elements(By.CSS_SELECTOR, "ol.steps > li.step")
    assert steps and "Chain rule" in steps[0].text
    assert len(chrome.find_elements(By.CSS_SELECTOR, "li.step math")) >= 3
    # MathML is laid out by the browser: a fraction has height, not a line of source
    frac = chrome.find_element(By.CSS_SELECTOR, "p.goal math")
    assert frac.size["height"] > 20 and "\\frac" not in frac.text
    sub = chrome.find_element(By.CSS_SELECTOR, "details.substeps")
    assert sub.get_attribute("open") is None
    inner = sub.find_element(By.CSS_SELECTOR, "li.step")
    assert not inner.is_displayed()
    sub.find_element(By.TAG_NAME, "summary").click()
    wait.until(lambda d: inner.is_displayed())
    assert "Sigmoid rule" in inner.text
    assert_not_blank(chrome, f"derive-{suffix}")

    chrome.get(live_server + "/check")
    chrome.find_element(By.ID, "expr").send_keys("sigmoid(w*x)")
    chrome.find_element(By.ID, "claim").send_keys("sigmoid(w*x)*(1 - sigmoid(w*x))")
    chrome.find_element(By.NAME, "wrt").send_keys("w")
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    verdict = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".verdict-line")))
    assert verdict.text == "Wrong"
    diagnosis = chrome.find_element(By.CSS_SELECTOR, ".diagnosis").text
    assert "factor" in diagnosis or "chain" in diagnosis or "missing" in diagnosis, diagnosis
    assert_not_blank(chrome, f"check-{suffix}")


def test_check_a_softmax_jacobian_claim(chrome, live_server):
    """Pick "Jacobian" under What, claim diag(s) − ssᵀ for softmax, and see it judged right."""
    from selenium.webdriver.support.ui import Select
    wait = WebDriverWait(chrome, 60)
    chrome.get(live_server + "/matrix?mode=check-backprop")
    chrome.find_element(By.ID, "loss").send_keys("softmax(z)")
    chrome.find_element(By.NAME, "wrt").send_keys("z")
    chrome.find_element(By.NAME, "shapes").send_keys("z: 4x1")
    Select(chrome.find_element(By.NAME, "what")).select_by_value("jacobian")
    chrome.find_element(By.ID, "claim").send_keys("diag(softmax(z)) - softmax(z)@softmax(z).T")
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    verdict = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".verdict-line")))
    assert verdict.text == "Right"
    assert "what=jacobian" in chrome.current_url  # a shareable GET URL
    assert "matches the Jacobian" in chrome.find_element(By.CSS_SELECTOR, ".diagnosis").text
    assert Select(chrome.find_element(By.NAME, "what")).first_selected_option.text.startswith("Jacobian")
    assert_not_blank(chrome, f"jacobian-check-{'js' if chrome.javascript else 'nojs'}")


PAGES = {
    "home": "/",
    "derive": "/derive?" + urlencode({"expr": "x^3 - 2*x", "wrt": "x", "at": "1"}),
    "gradient": "/derive?" + urlencode({"expr": "x^2*y + y^3", "kind": "hessian"}),
    "check": "/check?" + urlencode({"expr": "x^2", "claim": "3*x", "wrt": "x"}),
    "matrix": "/matrix?" + urlencode({"mode": "matgrad", "loss": "norm2(W@x + b - y)", "wrt": "W",
                                      "shapes": "W=3x4,x=4x1,b=3x1,y=3x1"}),
    "matrix-hessian": "/matrix?" + urlencode({"mode": "matgrad", "what": "hessian", "wrt": "w",
                                              "loss": "sum(log(1 + exp(X@w))) - y.T@X@w",
                                              "shapes": "X=5x3,w=3x1,y=5x1"}),
    "descend": "/descend?" + urlencode({"expr": "x^2 + 10*y^2", "start": "x=1,y=1", "method": "momentum",
                                        "lr": "0.02", "steps": "40"}),
    "linalg": "/linalg?" + urlencode({"op": "eig", "matrix": "[[2,1],[1,2]]"}),
    "drill": "/drill?" + urlencode({"topic": "chain_rule", "seed": "1", "show": "hint"}),
    "notes": "/notes?" + urlencode({"text": "# Sigmoid\n\nThe logistic $\\sigma$.\n\n```derivekit\n"
                                            "derivative: sigmoid(w*x + b)\nwrt: w\n```\n"}),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_page_renders_and_is_not_blank(chrome, live_server, name):
    chrome.get(live_server + PAGES[name])
    WebDriverWait(chrome, 60).until(EC.presence_of_element_located((By.TAG_NAME, "footer")))
    assert "Cannot answer" not in chrome.page_source
    assert_not_blank(chrome, f"page-{name}-{'js' if chrome.javascript else 'nojs'}")


def test_history_lists_recent_pages_with_javascript_on(chrome, live_server):
    if not chrome.javascript:
        pytest.skip("history is a JavaScript nicety")
    chrome.get(live_server + "/derive?" + urlencode({"expr": "tanh(2*x)", "wrt": "x"}))
    WebDriverWait(chrome, 60).until(EC.presence_of_element_located((By.CSS_SELECTOR, "ol.steps")))
    chrome.get(live_server + "/")
    box = WebDriverWait(chrome, 30).until(EC.visibility_of_element_located((By.ID, "history")))
    assert "tanh(2*x)" in box.text
