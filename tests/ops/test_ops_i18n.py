"""Translation catalogues: the platform's (core, templates, shell) and each module's own; every
language offered is complete in each and its compiled file current."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

LOCALE = Path(settings.LOCALE_PATHS[0])
SRC = LOCALE.parent
OFFERED = [code for code, _name in settings.LANGUAGES if code != "en"]
# Modules that keep their own catalogue (src/mufakat/<module>/locale/, scripts/messages.py).
MODULE_LOCALES = sorted(p for p in SRC.glob("*/locale") if (p.parent / "apps.py").exists())
CATALOGUES = [LOCALE, *MODULE_LOCALES]


def catalogue_id(path: Path) -> str:
    return "platform" if path == LOCALE else path.parent.name


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


def test_every_module_keeps_its_own_catalogue() -> None:
    assert [p.parent.name for p in MODULE_LOCALES] == ["cui"]


@pytest.mark.parametrize("where", CATALOGUES, ids=catalogue_id)
@pytest.mark.parametrize("lang", OFFERED)
def test_catalogue_is_complete_and_compiled(lang: str, where: Path) -> None:
    po = where / lang / "LC_MESSAGES" / "django.po"
    mo = where / lang / "LC_MESSAGES" / "django.mo"
    entries = po_entries(po)
    entries.pop("", None)  # the header
    assert len(entries) > (200 if where == LOCALE else 0)
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


@pytest.mark.parametrize("where", CATALOGUES, ids=catalogue_id)
def test_catalogues_cover_every_extracted_string(
    where: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    """A string added to the code without translations fails here, not in front of a user."""
    # scripts/test.py installs gettext when missing; run by hand without it, say what to do.
    assert shutil.which("xgettext"), "GNU gettext is needed: apt-get install gettext"
    # makemessages writes into the catalogue, so extract from a copy and keep the tree untouched.
    src = SRC if where == LOCALE else where.parent
    copy = tmp_path / src.name
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("static", "locale", "__pycache__"))
    (copy / "locale").mkdir()
    monkeypatch.chdir(copy)
    # The platform catalogue leaves out the modules that keep their own.
    skip = [f"{m.parent.name}/*" for m in MODULE_LOCALES] if where == LOCALE else []
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command(
            "makemessages",
            locale=["en"],
            keep_pot=True,
            no_location=True,
            ignore_patterns=["static/*", *skip],
            verbosity=0,
        )
    extracted = set(po_entries(copy / "locale" / "django.pot")) - {""}
    for lang in OFFERED:
        missing = extracted - set(po_entries(where / lang / "LC_MESSAGES" / "django.po"))
        assert sorted(missing) == [], f"{lang}: run scripts/messages.py and translate"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lang", "texts"),
    [
        ("id", ["Masuk ke Mufakat", "Nama pengguna", "Kata sandi", "Langsung ke konten"]),
        ("vi", ["Đăng nhập Mufakat", "Tên đăng nhập", "Mật khẩu", "Chuyển đến nội dung"]),
        ("ms", ["Log masuk ke Mufakat", "Nama pengguna", "Kata laluan", "Langkau ke kandungan"]),
        ("th", ["เข้าสู่ระบบ Mufakat", "ชื่อผู้ใช้", "รหัสผ่าน", "ข้ามไปยังเนื้อหา"]),
    ],
)
def test_login_page_speaks_the_chosen_language(lang: str, texts: list[str]) -> None:
    client = Client()
    r = client.post("/i18n/setlang/", {"language": lang, "next": "/accounts/login/"}, follow=True)
    body = r.content.decode()
    assert f'<html lang="{lang}">' in body
    for text in texts:
        assert text in body


@pytest.mark.django_db
def test_switcher_names_each_language_in_itself() -> None:
    # Whatever the page language, a reader must find their own language by its own name.
    for lang in ("en", "th"):
        client = Client()
        r = client.post(
            "/i18n/setlang/", {"language": lang, "next": "/accounts/login/"}, follow=True
        )
        # Django spells some names in decomposed Unicode (e.g. Vietnamese); compare composed.
        body = unicodedata.normalize("NFC", r.content.decode())
        for code, name in [
            ("en", "English"),
            ("id", "Bahasa Indonesia"),
            ("vi", "Tiếng Việt"),
            ("ms", "Bahasa Melayu"),
            ("th", "ภาษาไทย"),
        ]:
            assert re.search(rf'<option value="{code}"[^>]*>{name}</option>', body), (lang, code)
