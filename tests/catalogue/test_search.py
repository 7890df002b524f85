import json
import subprocess
import sys

import pytest

from bot.catalogue.search import Entry, SearchIndex, clean_query


@pytest.mark.parametrize(
    "query, code",
    [
        ("Đăng ký kết hôn có mất phí không", "1.000894"),
        ("dang ky ket hon co mat phi ko", "1.000894"),
        ("kết hôn đăng ký", "1.000894"),
        ("làm giấy khai sinh cho con", "1.001193"),
        ("lam giay khai sinh cho con", "1.001193"),
        ("Làm hộ chiếu online được không?", "1.001456"),
        ("đăng ký khai tử", "1.000656"),
    ],
)
async def test_common_procedures_rank_first(catalogue, query, code):
    assert catalogue.search(query, top=3)[0].code == code


async def test_prefers_the_common_procedure_among_namesakes(catalogue):
    hits = catalogue.search("khai sinh", top=5)
    assert hits[0].code == "1.001193"
    assert "nước ngoài" not in hits[0].name


async def test_foreign_variant_when_asked(catalogue):
    hits = catalogue.search("đăng ký kết hôn với người nước ngoài", top=3)
    assert "nước ngoài" in catalogue.get(hits[0].code).name


async def test_colloquial_names(catalogue):
    assert catalogue.get(catalogue.search("làm sổ đỏ lần đầu")[0].code).slug == "land_certificate_first_issue"
    assert catalogue.get(catalogue.search("mat bang lai xe")[0].code).slug == "driving_licence_reissue"
    assert catalogue.get(catalogue.search("nhap ho khau cho vo")[0].code).slug == "permanent_residence_registration"


async def test_nothing_for_noise(catalogue):
    assert catalogue.search("😀😀") == []
    assert catalogue.search("") == []
    assert catalogue.search("ok") == []


def test_clean_query_drops_question_words():
    assert clean_query("cho em hỏi làm hộ chiếu ở đâu vậy ad") == "ho chieu"


def test_filler_words_are_dropped_even_beside_a_name_word():
    # "tạm trú không" and "cần đăng ký" are bigrams of some official names; "không" is still filler.
    assert "khong" not in clean_query("can dk tam tru ko a", {"tru khong", "khong a"}).split()


def test_stop_word_kept_inside_a_known_phrase():
    # "căn" folds to "can", like the stop word "cần": kept because "can cuoc" is a known bigram.
    index = SearchIndex([Entry("1", "Cấp thẻ căn cước"), Entry("2", "Cấp hộ chiếu")])
    assert index.expand("cần làm căn cước ở đâu") == "can cuoc"


def test_words_with_tone_marks_are_not_chat_abbreviations():
    index = SearchIndex([Entry("1", "Cấp hộ chiếu")], synonyms={"sổ hồng": ["giấy chứng nhận quyền sở hữu nhà ở"]})
    # "sợ ko kịp" is not "sổ hồng", though "hong" is also a chat form of "không".
    assert "nha o" not in index.expand("hộ chiếu làm bao lâu, sợ ko kịp")
    assert index.expand("làm sổ hồng") == "giay chung nhan quyen so huu nha o"
    # "ty" is a chat form of "thank you", but "công ty" is a company.
    assert index.expand("thành lập công ty") == "thanh lap cong ty"


def test_re_registration_only_when_asked():
    index = SearchIndex([Entry("1", "Đăng ký khai tử"), Entry("2", "Đăng ký lại khai tử")])
    assert index.search("khai tử cho ông nội, có giấy báo tử rồi")[0].code == "1"
    assert index.search("đăng ký lại khai tử cho ông")[0].code == "2"


def test_index_on_its_own():
    index = SearchIndex([Entry("1", "Cấp giấy phép lái xe"), Entry("2", "Đổi giấy phép lái xe")])
    assert [h.code for h in index.search("doi giay phep lai xe")][:1] == ["2"]


def test_cli_prints_json(catalogue_db):
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "procedures", "search", "giay khai sinh", "--top", "3", "--json"],
        env={"DATABASE_URL": catalogue_db, "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        check=True,
    )
    hits = json.loads(out.stdout)
    assert len(hits) == 3
    assert {"code", "name", "score"} <= set(hits[0])
    assert hits[0]["code"] == "1.001193"
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]


def test_the_commune_namesake_first():
    from bot.catalogue.search import is_local

    assert is_local(["Ủy ban nhân dân cấp xã"]) and is_local(["Ủy ban Nhân dân xã, phường, thị trấn"])
    assert not is_local(["Cục Thuế - Bộ tài chính", "Ủy ban nhân dân cấp Tỉnh"])
    # District-level agencies were abolished on 1 July 2025: not where citizens go now.
    assert not is_local(["Phòng Tư Pháp"]) and not is_local(["Công an huyện"])
    index = SearchIndex(
        [Entry("1", "Giải quyết khiếu nại lần đầu"), Entry("2", "Giải quyết khiếu nại lần đầu", local=True)]
    )
    assert index.search("khiếu nại lần đầu")[0].code == "2"


async def test_the_age_in_the_message_picks_the_id_card_procedure(catalogue):
    slug = lambda query: catalogue.get(catalogue.search(query)[0].code).slug  # noqa: E731
    assert slug("lam cccd cho con 10 tuoi can gi") == "id_card_issue_under_14"
    assert slug("làm căn cước cho bé 5 tuổi") == "id_card_issue_under_14"
    assert slug("làm căn cước cho con 15 tuổi") == "id_card_issue"


async def test_a_child_age_does_not_pull_other_questions_to_the_child_id_card(catalogue):
    assert catalogue.search("làm hộ chiếu cho con 5 tuổi")[0].code == "1.001456"


def test_a_name_found_whole_in_the_message_counts():
    index = SearchIndex([Entry("1", "Đăng ký tạm trú"), Entry("2", "Đăng ký thường trú")])
    plain = SearchIndex([Entry("1", "Đăng ký tạm trú"), Entry("2", "Đăng ký thường trú")], phrase_bonus=0.0)
    text = "mới chuyển đến trọ, cần đăng ký tạm trú không"
    gap = lambda hits: hits[0].score - hits[1].score  # noqa: E731
    assert index.search(text)[0].code == "1"
    assert gap(index.search(text)) > gap(plain.search(text)) + 0.02
