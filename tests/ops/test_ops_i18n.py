"""Catalogues of the shell: every language offered is complete and its compiled file current."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

LOCALE = Path(settings.LOCALE_PATHS[0])
OFFERED = [code for code, _name in settings.LANGUAGES if code != "en"]


def po_entries(path: Path) -> dict[str, str]:
    """msgid (or 'singular\\x00plural') -> first msgstr, read from a .po file."""
    entries: dict[str, str] = {}
    current: dict[str, str] = {}
    key = ""

    def flush() -> None:
        if "msgid" in current:
            mid = current["msgid"]
            if "msgid_plural" in current:
                mid += "\x00" + current["msgid_plural"]
            entries[mid] = current.get("msgstr", current.get("msgstr[0]", ""))

    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r'^(msgid|msgid_plural|msgctxt|msgstr(?:\[0\])?|msgstr\[\d+\]) (".*")$', line)
        if m:
            if m.group(1) == "msgid":
                flush()
                current = {}
            key = m.group(1)
            current[key] = ast.literal_eval(m.group(2))
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
    flush()
    return entries


@pytest.mark.parametrize("lang", OFFERED)
def test_catalogue_is_complete_and_compiled(lang: str) -> None:
    po = LOCALE / lang / "LC_MESSAGES" / "django.po"
    mo = LOCALE / lang / "LC_MESSAGES" / "django.mo"
    entries = po_entries(po)
    entries.pop("", None)  # the header
    assert len(entries) > 200
    untranslated = [k for k, v in entries.items() if not v]
    assert untranslated == []
    assert "#, fuzzy" not in po.read_text(encoding="utf-8")
    with mo.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = [
        k
        for k, v in entries.items()
        if (compiled.ngettext(*k.split("\x00"), 1) if "\x00" in k else compiled.gettext(k)) != v
    ]
    assert stale == [], "run `mufakat manage compilemessages` (needs gettext)"
    # Placeholders survive translation, or the page would raise or show raw markup.
    for k, v in entries.items():
        assert sorted(re.findall(r"%\(\w+\)s", k.split("\x00")[0])) == sorted(
            re.findall(r"%\(\w+\)s", v)
        ), k


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lang", "texts"),
    [
        ("id", ["Masuk ke Mufakat", "Nama pengguna", "Kata sandi", "Langsung ke konten"]),
        ("vi", ["Đăng nhập Mufakat", "Tên đăng nhập", "Mật khẩu", "Chuyển đến nội dung"]),
    ],
)
def test_login_page_speaks_the_chosen_language(lang: str, texts: list[str]) -> None:
    client = Client()
    r = client.post("/i18n/setlang/", {"language": lang, "next": "/accounts/login/"}, follow=True)
    body = r.content.decode()
    assert f'<html lang="{lang}">' in body
    for text in texts:
        assert text in body
