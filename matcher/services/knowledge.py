"""Knowledge products: the digest of the practices and lessons on a topic and in a network,
in an interface language (``matcher knowledge export``, and the ``/library/digest`` page).

The digest holds only what may be shared across the network: practices, and published
lessons (a lesson of a confidential need only once its association published it, and never
naming the association: the network only). Texts stay in their own language, with the
language named; the words around them are in the chosen language (``messages.po``).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from jinja2 import Environment, FileSystemLoader, select_autoescape

from matcher.errors import InvalidInput
from matcher.i18n import _
from matcher.language import detect_language
from matcher.reference import UI_LANGUAGES, default_data_dir
from matcher.services import lessons as lesson_service
from matcher.services import profiles
from matcher.store import LessonQuery
from matcher.store.profiles import ProfileQuery

FORMATS = ("html", "md", "csv")
MAX_ITEMS = 500  # practices, and lessons, in one digest
CSV_COLUMNS = ("kind", "id", "topic", "network", "association", "language", "language_name",
               "worked", "taught", "reported_worked", "figures", "text")


def digest(engine, topic: str | None = None, region: str | None = None, lang: str = "en",
           practices: bool = True) -> dict:
    """The digest's content: ``topic`` (a category) and ``region`` (a network) are
    optional and checked (:class:`InvalidInput`); ``practices``: whether to hold them (not
    for partners' pages)."""
    ref = engine.ref
    if topic is not None and topic not in ref.categories:
        raise InvalidInput(f"unknown topic; one of: {', '.join(sorted(ref.categories))}",
                           field="topic")
    if region is not None and region not in ref.regions:
        raise InvalidInput(f"unknown network; one of: {', '.join(ref.regions)}",
                           field="region")
    if lang not in UI_LANGUAGES:
        raise InvalidInput(f"a language is one of: {', '.join(UI_LANGUAGES)}", field="lang")
    shown_practices = []
    if practices:
        rows, _total = profiles.list_records(engine, "practices", ProfileQuery(
            category=topic, region=region, limit=MAX_ITEMS))
        counts = engine.store.practice_exchanges([r["id"] for r in rows])
        for row in rows:
            association = engine.store.get("associations", row["association_id"]) or {}
            language = detect_language(row["text"])
            shown_practices.append({
                "id": row["id"], "text": row["text"], "category": row["category"],
                "language": language, "language_name": ref.language_name(language, lang),
                "topic": ref.category_label(row["category"], lang) if row["category"] else "",
                "association": association.get("name"),
                "network": ref.region_label(association["region"], lang)
                if association.get("region") else "",
                **counts.get(row["id"], {"taught": 0, "worked": 0})})
    rows, _total = engine.store.list_lessons(LessonQuery(
        published_only=True, category=topic, region=region, limit=MAX_ITEMS))
    shown_lessons = []
    for row in rows:
        item = lesson_service.view(engine, None, row, lang)
        network = ref.region_label(item["region"], lang) if item["region"] else ""
        shown_lessons.append({
            **item, "topic": ref.category_label(item["category"], lang)
            if item["category"] else "",
            "network": network,
            "by": item["association_name"] or _("An association of the {network} network",
                                                 lang, network=network),
            "language_name": ref.language_name(item["language"], lang)})
    return {"lang": lang, "topic": topic, "region": region,
            "topic_label": ref.category_label(topic, lang) if topic else None,
            "region_label": ref.region_label(region, lang) if region else None,
            "made_on": datetime.now(UTC).date().isoformat(),
            "practices": shown_practices, "lessons": shown_lessons}


def words(lang: str) -> dict[str, str]:
    """The words around the texts, in ``lang`` (French puts a no-break space before a colon)."""
    return {"colon": "\u00a0:" if lang == "fr" else ":"} | {key: _(text, lang) for key, text in {
        "title": "Practices and lessons", "practices": "Practices", "lessons": "Lessons",
        "all_topics": "All topics", "all_networks": "All networks", "topic": "Topic",
        "network": "Network", "made_on": "Made on", "worked": "It worked",
        "not_worked": "It did not work", "written_in": "Written in",
        "not_taught": "Not taught in an exchange yet.", "nothing": "Nothing yet.",
        "about": "What associations of the Delve Exchange learned, from each other and from "
                 "partners.",
    }.items()}


def taught(practice: dict, lang: str) -> str:
    if not practice["taught"]:
        return _("Not taught in an exchange yet.", lang)
    return _("Taught to associations: {taught}; reported it worked: {worked}.", lang,
             taught=practice["taught"], worked=practice["worked"])


def render(content: dict, fmt: str) -> str:
    """The digest in ``fmt`` (html, md or csv)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"a format is one of: {', '.join(FORMATS)}", field="format")
    lang = content["lang"]
    if fmt == "csv":
        return _csv(content, lang)
    env = Environment(loader=FileSystemLoader(default_data_dir() / "templates" / "knowledge"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["md"] = _md_escape
    return env.get_template(f"digest.{fmt}.j2").render(
        d=content, w=words(lang), taught=lambda p: taught(p, lang)).strip() + "\n"


def _md_escape(text: str) -> str:
    """A text as one Markdown paragraph: no line starts a heading, list or quote."""
    flat = " ".join((text or "").split())
    for char in "\\`*_[]<>#|":
        flat = flat.replace(char, "\\" + char)
    return flat


def _csv(content: dict, lang: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in content["practices"]:
        writer.writerow(["practice", p["id"], p["topic"], p["network"], p["association"] or "",
                         p["language"], p["language_name"], "", p["taught"], p["worked"], "", _cell(p["text"])])
    for lesson in content["lessons"]:
        figures = "; ".join(f"{k}={v}" for k, v in lesson["figures"].items())
        writer.writerow(["lesson", lesson["id"], lesson["topic"], lesson["network"],
                         lesson["by"], lesson["language"], lesson["language_name"],
                         "yes" if lesson["worked"] else "no", "", "", figures,
                         _cell(lesson["text"])])
    return out.getvalue()


def _cell(text: str) -> str:
    """A text cell no spreadsheet reads as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
