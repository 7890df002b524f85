"""What the output channels send: split texts, buttons as quick actions/quick replies and numbers."""

import pytest

from bot.channels import fakes
from bot.channels.choices import ChoiceMemory
from bot.channels.http import HttpClient
from bot.channels.messenger import GraphClient, MessengerOutput
from bot.channels.splitting import text_length
from bot.channels.store import MemoryStore
from bot.channels.zalo import ZaloOutput
from bot.channels.zalo_api import FileTokenStore, ZaloClient

LONG = "\n\n".join(["Bước " + str(i) + ": " + "nộp hồ sơ và nhận kết quả " * 20 for i in range(12)])
BUTTONS = [{"title": "Đổi giấy phép lái xe", "payload": '/find_procedure{"procedure_code": "3.000347"}'},
           {"title": "Cấp lại giấy phép lái xe", "payload": '/find_procedure{"procedure_code": "3.000348"}'},
           {"title": "None", "payload": "None"}]


@pytest.fixture
def fake():
    with fakes.FakePlatforms(zalo_refresh_token="zr-0") as platforms:
        yield platforms


@pytest.fixture
async def zalo(fake, tmp_path):
    client = ZaloClient(fakes.ZALO_APP_ID, fakes.ZALO_APP_SECRET, FileTokenStore(tmp_path / "t.json"),
                        HttpClient(), api_base=fake.url, oauth_base=fake.url, seed_refresh_token="zr-0")
    choices = ChoiceMemory(MemoryStore(), "zalo")
    yield ZaloOutput(client, choices)
    await client.close()


@pytest.fixture
async def messenger(fake):
    graph = GraphClient(fakes.MESSENGER_PAGE_TOKEN, HttpClient(), fake.url, "v25.0")
    yield MessengerOutput(graph, ChoiceMemory(MemoryStore(), "messenger"))
    await graph.close()


async def test_zalo_long_text_is_split(zalo, fake):
    await zalo.send_text_message("u", LONG)
    texts = fakes.texts(fake.of("zalo_message"))
    assert len(texts) > 1 and all(text_length(t) <= 2000 for t in texts)
    assert " ".join(" ".join(texts).split()) == " ".join(LONG.split())


async def test_zalo_buttons_become_quick_actions_and_numbers(zalo, fake):
    await zalo.send_response("u", {"text": LONG, "buttons": [dict(b) for b in BUTTONS]})
    sent = [r.body["message"] for r in fake.of("zalo_message")]
    assert all("attachment" not in m for m in sent[:-1])
    last = sent[-1]
    assert last["text"].endswith("\n1. Đổi giấy phép lái xe\n2. Cấp lại giấy phép lái xe")
    assert [b["payload"] for b in last["attachment"]["payload"]["buttons"]] == [b["payload"] for b in BUTTONS[:2]]
    assert await zalo.choices.resolve("u", "2") == BUTTONS[1]["payload"]


async def test_zalo_send_failure_is_logged_not_raised(zalo, fake, caplog):
    fake.fail_next("/v4/oa/access_token", [400])
    await zalo.send_text_message("u", "x")
    assert "not sent" in caplog.text


async def test_messenger_quick_replies(messenger, fake):
    await messenger.send_response("psid", {"text": LONG, "buttons": [dict(b) for b in BUTTONS]})
    sent = [r for r in fake.of("messenger_message")]
    assert all(r.query["access_token"] == fakes.MESSENGER_PAGE_TOKEN for r in sent)
    assert all(text_length(r.body["message"]["text"]) <= 2000 for r in sent)
    last = sent[-1].body["message"]
    assert [q["title"] for q in last["quick_replies"]] == ["1. Đổi giấy phép lá…", "2. Cấp lại giấy phé…"]
    assert all(text_length(q["title"]) <= 20 for q in last["quick_replies"])
    assert last["quick_replies"][1]["payload"] == BUTTONS[1]["payload"]
    assert await messenger.choices.resolve("psid", "1") == BUTTONS[0]["payload"]


async def test_messenger_outside_the_window_is_logged(messenger, fake, caplog, monkeypatch):
    from bot.channels import messenger as module

    async def refuse(*args, **kwargs):
        raise module.GraphApiError(400, {"code": 10, "error_subcode": 2018278, "message": "outside window"})

    monkeypatch.setattr(messenger.graph, "send", refuse)
    await messenger.send_text_message("psid", "x")
    assert "outside the 24-hour window" in caplog.text


def test_widget_text_renders_as_written():
    from bot.channels.socketio import widget_markdown

    assert widget_markdown("của T*** A***") == r"của T\*\*\* A\*\*\*"
    assert widget_markdown("Giấy tờ:\n• Tờ khai\n• Giấy chứng sinh") == "Giấy tờ:  \n• Tờ khai  \n• Giấy chứng sinh"
    assert widget_markdown("một\n\nhai") == "một\n\nhai"
    assert widget_markdown("- gạch\n# thăng") == "\\- gạch  \n\\# thăng"
    url = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1325"
    assert widget_markdown(url) == url
