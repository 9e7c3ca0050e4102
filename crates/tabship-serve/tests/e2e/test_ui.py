"""Headless Chromium opens /ui, fills the form, clicks Predict and sees the prediction."""

import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.fail("chromium and chromedriver are missing: run scripts/e2e.sh (installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def fill(browser, column, value):
    field = browser.find_element(By.CSS_SELECTOR, f'[data-column="{column}"]')
    field.clear()
    field.send_keys(str(value))


def test_iris_form_predicts(server, browser):
    browser.get(server.url + "/ui/iris")
    browser.find_element(By.ID, "token").send_keys(server.token)
    for column, value in {"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2,
                          "petal_width": 2.3}.items():
        fill(browser, column, value)
    browser.find_element(By.ID, "predict").click()
    prediction = WebDriverWait(browser, 15).until(
        ec.visibility_of_element_located((By.ID, "prediction")))
    assert prediction.text == "virginica"
    rows = browser.find_elements(By.CSS_SELECTOR, "#probabilities tr")
    assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows] == [
        "setosa", "versicolor", "virginica"]


def test_adult_form_with_other_category_and_bad_token(server, browser):
    browser.get(server.url + "/ui/adult")
    token = browser.find_element(By.ID, "token")
    token.clear()
    token.send_keys(server.token)
    Select(browser.find_element(By.CSS_SELECTOR, '[data-column="workclass"]')).select_by_visible_text(
        "type another value…")
    other = browser.find_element(By.ID, "f1-other")
    assert other.is_displayed()
    other.send_keys("Space-force")
    browser.find_element(By.ID, "predict").click()
    prediction = WebDriverWait(browser, 15).until(
        ec.visibility_of_element_located((By.ID, "prediction")))
    assert prediction.text in ("<=50K", ">50K")
    token.clear()
    token.send_keys("wrong")
    browser.find_element(By.ID, "predict").click()
    error = WebDriverWait(browser, 15).until(ec.visibility_of_element_located((By.ID, "error")))
    assert error.text.startswith("401")


def test_letters_in_a_number_field_are_refused_not_sent_as_missing(server, browser):
    browser.get(server.url + "/ui/iris")
    token = browser.find_element(By.ID, "token")
    token.clear()
    token.send_keys(server.token)
    for column, value in {"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2,
                          "petal_width": 2.3}.items():
        fill(browser, column, value)
    field = browser.find_element(By.CSS_SELECTOR, '[data-column="sepal_width"]')
    field.clear()
    field.send_keys("abc")
    browser.find_element(By.ID, "predict").click()
    error = WebDriverWait(browser, 15).until(ec.visibility_of_element_located((By.ID, "error")))
    assert "sepal_width" in error.text and "not a number" in error.text
    assert browser.find_element(By.ID, field.get_attribute("id") + "-error").is_displayed()
    assert not browser.find_elements(By.ID, "prediction"), "nothing was sent"
    # Emptied, the field is a missing value and the form predicts.
    field.clear()
    browser.find_element(By.ID, "predict").click()
    prediction = WebDriverWait(browser, 15).until(
        ec.visibility_of_element_located((By.ID, "prediction")))
    assert prediction.text == "virginica"


def test_the_free_text_entry_is_not_a_category(server, browser):
    browser.get(server.url + "/ui/adult")
    select = browser.find_element(By.CSS_SELECTOR, '[data-column="workclass"]')
    labels = [o.text for o in select.find_elements(By.TAG_NAME, "option")]
    assert labels[-2:] == ["(missing)", "type another value…"]
    assert "other…" not in labels
    other = browser.find_element(By.ID, select.get_attribute("id") + "-other")
    Select(select).select_by_visible_text("type another value…")
    assert other.is_displayed()
    Select(select).select_by_index(0)
    assert not other.is_displayed()


def test_docs_page_lists_and_tries_endpoints(server, browser):
    browser.get(server.url + "/docs")
    token = browser.find_element(By.ID, "token")
    token.clear()  # the tab may remember an earlier token
    token.send_keys(server.token)
    card = WebDriverWait(browser, 15).until(ec.presence_of_element_located(
        (By.XPATH, "//details[summary/code[text()='/models/iris/predict']]")))
    card.find_element(By.TAG_NAME, "summary").click()
    card.find_element(By.TAG_NAME, "button").click()
    out = card.find_element(By.TAG_NAME, "pre")
    WebDriverWait(browser, 15).until(lambda _: out.text.startswith("200"))
    assert '"prediction"' in out.text
    assert '"username": "pedro1"' in out.text
