"""Introduction messages: once an association accepted an introduction, a ready-to-send
message for each side, in that side's language, naming both sides, the need and the offering
(or practice), with contacts and WhatsApp click-to-chat links where contacts exist: in the
text a plain link to the other side's chat; ``chat_link`` opens it with a short greeting
ready (for a button); ``whatsapp_link`` sends the whole message to the recipient.

Templates are Jinja2 files in ``data/templates/<lang>/`` (en, fr, es, pt). Messages are plain
text: whoever shows them as HTML must escape them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from matcher.errors import Conflict
from matcher.language import detect_language
from matcher.reference import default_data_dir

TEMPLATE_LANGUAGES = ("en", "fr", "es", "pt")
WHATSAPP = "https://wa.me/"


def association_language(association: dict, text: str = "") -> str:
    """The language to write to an association in: the language of its text when it is one of
    the association's (or it lists none), else its first template language, else English."""
    own = [lang for lang in association.get("languages") or [] if lang in TEMPLATE_LANGUAGES]
    detected = detect_language(text) if text.strip() else None
    if detected in TEMPLATE_LANGUAGES and (detected in own or not own):
        return detected
    return own[0] if own else "en"


def partner_language(partner: dict) -> str:
    """A partner's first template language, else English."""
    return next((lang for lang in partner.get("languages") or [] if lang in TEMPLATE_LANGUAGES),
                "en")


def whatsapp_number(contact: dict | None) -> str | None:
    """The digits of a contact's WhatsApp number (its phone if it gives none), or None."""
    if not contact:
        return None
    number = contact.get("whatsapp") or contact.get("phone")
    if not number:
        return None
    digits = re.sub(r"\D", "", number)
    if number.strip().startswith("00"):
        digits = digits[2:]  # 00 is the international prefix; wa.me wants the number without it
    return digits if len(digits) >= 7 else None


def whatsapp_link(contact: dict | None, text: str | None = None) -> str | None:
    """``https://wa.me/<digits>?text=<message>``: a chat with the contact, message ready."""
    digits = whatsapp_number(contact)
    if digits is None:
        return None
    return WHATSAPP + digits + (f"?text={quote(text, safe='')}" if text else "")


@lru_cache(maxsize=4)
def _environment(folder: str) -> Environment:
    return Environment(loader=FileSystemLoader(folder), undefined=StrictUndefined,
                       autoescape=False, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=False)


def template_folder(data_dir: Path | str | None = None) -> Path:
    """``templates/`` of the configured data folder, or the bundled one if it has none."""
    folder = Path(data_dir) / "templates" if data_dir else None
    return folder if folder and folder.is_dir() else default_data_dir() / "templates"


def _render(folder: Path, lang: str, name: str, **context) -> str:
    text = _environment(str(folder)).get_template(f"{lang}/{name}").render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


CONTACT_FIELDS = ("name", "phone", "whatsapp", "email")


def _party(row: dict, recipient: str, language: str, country: str | None = None) -> dict:
    given = row.get("contact") or {}
    contact = ({k: given.get(k) or None for k in CONTACT_FIELDS}
               if any(given.get(k) for k in CONTACT_FIELDS) else None)
    return {"recipient": recipient, "id": row["id"], "name": row["name"], "language": language,
            "contact": contact, "country": country}


def build(engine, match: dict) -> dict:
    """The introduction of an introduced match: one message per side."""
    if match["introduced_at"] is None:
        raise Conflict(f"match {match['id']} has no introduction yet: the association has not "
                       "accepted one")
    store, ref = engine.store, engine.ref
    need = store.get("needs", match["need_id"]) or {"text": ""}
    association = store.get("associations", match["association_id"])
    if match["kind"] == "partner":
        item = store.get("offerings", match["item_id"]) or {}
        owner = store.get("partners", match["owner_id"])
        other = _party(owner, "partner", partner_language(owner)) if owner else None
        item_title = item.get("title") or match["item_id"]
        item_text = item.get("description") or ""
    else:
        item = store.get("practices", match["item_id"]) or {}
        owner = store.get("associations", match["owner_id"])
        other = _party(owner, "peer", association_language(owner, item.get("text", "")),
                       owner["country"]) if owner else None
        item_title, item_text = "", item.get("text") or ""
    if association is None or other is None:
        raise Conflict(f"match {match['id']}: one side no longer exists")
    mine = _party(association, "association", association_language(association, need["text"]),
                  association["country"])
    folder = template_folder(ref.data_dir)
    messages = []
    for me, them in ((mine, other), (other, mine)):
        lang = me["language"]
        context = {
            "kind": match["kind"], "me": me, "them": them,
            "salutation": (me["contact"] or {}).get("name") or me["name"],
            "them_country": ref.country_name(them["country"], lang) if them["country"] else "",
            "need_side": me["recipient"] == "association",
            "association": mine["name"],
            "association_country": ref.country_name(association["country"], lang),
            "need_text": need["text"],
            "category": ref.category_label(match["category"], lang) if match["category"] else "",
            "item_title": item_title, "item_text": item_text,
            "match_id": match["id"],
        }
        greeting = _render(folder, lang, "greeting.txt.j2", **context)
        # the message shows a plain chat link; its greeting goes on the button (chat_link)
        context["them_whatsapp"] = whatsapp_link(them["contact"])
        subject = _render(folder, lang, "subject.txt.j2", **context)
        text = _render(folder, lang, "introduction.txt.j2", **context)
        messages.append({
            "recipient": me["recipient"], "organisation_id": me["id"],
            "organisation_name": me["name"], "language": lang, "subject": subject,
            "text": text, "contact": me["contact"],
            "whatsapp_link": whatsapp_link(me["contact"], text),
            "chat_link": whatsapp_link(them["contact"], greeting),
        })
    return {"match_id": match["id"], "messages": messages}
