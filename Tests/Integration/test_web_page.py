"""The web client at `/` in a real browser: Debian's chromium driven by chromedriver through
selenium. Uploads dog.jpg and checks the drawn detections and the timing panel, runs the stock
panel with the bundled sample, shows an error in words, and fits a phone's width.
Screenshots are kept in .build/artifacts/."""
import pathlib
import shutil

import pytest
from conftest import ROOT, SHARED

from selenium import webdriver  # pip: scripts/test-requirements.txt
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

DOG = SHARED / "data/images/dog.jpg"
ARTIFACTS = ROOT / ".build/artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser():
    if not pathlib.Path(CHROMIUM).exists() or not pathlib.Path(CHROMEDRIVER).exists():
        pytest.fail("chromium and chromium-driver are needed: MSCR_TEST_DEPS=1 scripts/install-deps.sh")
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1100"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def wait(driver, seconds=60):
    return WebDriverWait(driver, seconds)


def canvas_ink(driver):
    """(width, height, pixels with any opacity) of the detections canvas."""
    return driver.execute_script("""
        const c = document.getElementById('detect-canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
        return [c.width, c.height, n];""")


def test_detect_draws_boxes_and_timing(server, browser):
    browser.set_window_size(1280, 1100)
    browser.get(server.url + "/")
    browser.find_element(By.ID, "detect-file").send_keys(str(DOG))
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#detections li[data-class]")))
    classes = [li.get_attribute("data-class") for li in browser.find_elements(By.CSS_SELECTOR, "#detections li")]
    assert "dog" in classes
    assert "dog" in browser.find_element(By.ID, "detections").text
    width, height, ink = canvas_ink(browser)
    assert (width, height) == (768, 576)  # boxes are drawn in the image's own pixels
    assert ink > 1000
    assert browser.find_element(By.ID, "detect-image").get_attribute("naturalWidth") == "768"
    assert "yolo-fastest-1.1" in browser.find_element(By.ID, "detect-model").text
    timing = browser.find_element(By.ID, "timing")
    assert "detect" in timing.text and "HTTP 200" in timing.text
    metrics = [r.get_attribute("data-metric") for r in timing.find_elements(By.CSS_SELECTOR, ".bar-row")]
    assert "infer" in metrics and "total" in metrics
    assert len(browser.find_elements(By.CSS_SELECTOR, "#timing-log tbody tr")) >= 1
    assert not browser.find_element(By.ID, "error").is_displayed()
    browser.save_screenshot(str(ARTIFACTS / "web-detect.png"))


def test_stock_sample_chart_and_table(server, browser):
    browser.set_window_size(1280, 1100)
    browser.get(server.url + "/")
    browser.find_element(By.ID, "stock-sample").click()
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#stock-chart svg path.line-predicted")))
    chart = browser.find_element(By.ID, "stock-chart")
    assert len(chart.find_elements(By.CSS_SELECTOR, "path.line-actual")) == 1
    assert len(chart.find_elements(By.CSS_SELECTOR, "circle.dot-next")) >= 1
    path = chart.find_element(By.CSS_SELECTOR, "path.line-predicted").get_attribute("d")
    assert path.count("L") >= 30  # one point per predicted day (40 rows, window 7) and the next day
    rows = browser.find_elements(By.CSS_SELECTOR, "#stock-table tbody tr")
    assert len(rows) >= 31
    assert rows[0].get_attribute("class") == "next-row"
    assert "Next close forecast" in browser.find_element(By.ID, "stock-next").text
    assert "stock-lstm" in browser.find_element(By.ID, "stock-model").text
    assert "stock" in browser.find_element(By.ID, "timing-last").text
    # The same rows typed newest-first: the page sends ?order=newest-first and gets the same forecast.
    first_next = browser.find_element(By.ID, "stock-next").text
    browser.execute_script("""
        const t = document.getElementById('stock-csv');
        t.value = t.value.split('\\n').filter(l => l && !l.startsWith('#')).reverse().join('\\n');
        document.getElementById('stock-order').value = 'newest-first';""")
    browser.find_element(By.ID, "stock-run").click()
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#timing-log tbody tr")) >= 2)
    wait(browser).until(lambda d: d.find_element(By.ID, "stock-status").text.startswith(("3", "4")))
    assert browser.find_element(By.ID, "stock-next").text == first_next
    browser.save_screenshot(str(ARTIFACTS / "web-stock.png"))


def test_errors_are_shown_in_words(server, browser, tmp_path):
    browser.get(server.url + "/")
    notes = tmp_path / "notes.txt"
    notes.write_text("this is not an image")
    browser.find_element(By.ID, "detect-file").send_keys(str(notes))
    wait(browser).until(EC.visibility_of_element_located((By.ID, "error")))
    text = browser.find_element(By.ID, "error").text
    assert text.startswith("detect:") and "HTTP 415" in text and "not supported" in text
    browser.find_element(By.ID, "stock-csv").send_keys("1,2,3\n")
    browser.find_element(By.ID, "stock-run").click()
    wait(browser).until(lambda d: "stock:" in d.find_element(By.ID, "error").text)
    assert "HTTP 400" in browser.find_element(By.ID, "error").text


def test_fits_a_phone(server, browser):
    browser.set_window_size(390, 844)
    browser.get(server.url + "/")
    browser.find_element(By.ID, "detect-file").send_keys(str(DOG))
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#detections li[data-class]")))
    overflow = browser.execute_script(
        "const e = document.documentElement; return e.scrollWidth - e.clientWidth")
    assert overflow <= 0, "the page scrolls sideways on a phone"
    canvas_width = browser.execute_script("return document.getElementById('detect-canvas').getBoundingClientRect().width")
    assert 200 < canvas_width <= 390
    browser.save_screenshot(str(ARTIFACTS / "web-phone.png"))
