"""Reference data shipped in ``data/``: regions, countries, categories, commodities, partner types."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel import Locale

UI_LANGUAGES = ("en", "fr", "es", "pt")
# CLDR two-letter territories that are not countries: unknown, groupings, the EU and UN.
_NOT_COUNTRIES = frozenset({"ZZ", "QO", "EU", "EZ", "UN"})


def default_data_dir() -> Path:
    """The bundled data folder: inside the wheel, or the repository's top-level ``data/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data", here.parent / "data"):
        if (candidate / "categories.json").is_file():
            return candidate
    raise FileNotFoundError("reference data folder not found (expected data/categories.json)")


@dataclass(frozen=True)
class Reference:
    """Read-only vocabularies the engine validates and explains with."""

    data_dir: Path
    regions: dict[str, dict]
    countries: dict[str, str]  # ISO alpha-2 -> region id
    categories: dict[str, dict]
    commodities: dict[str, dict]
    partner_types: dict[str, dict]

    @property
    def category_ids(self) -> list[str]:
        return list(self.categories)

    def region_of(self, country: str) -> str | None:
        return self.countries.get(country)

    def category_label(self, category: str, lang: str = "en") -> str:
        labels = self.categories.get(category, {}).get("label", {})
        return labels.get(lang) or labels.get("en") or category

    def commodity_label(self, commodity: str, lang: str = "en") -> str:
        labels = self.commodities.get(commodity, {}).get("label", {})
        return labels.get(lang) or labels.get("en") or commodity

    def partner_type_label(self, partner_type: str, lang: str = "en") -> str:
        labels = self.partner_types.get(partner_type, {}).get("label", {})
        return labels.get(lang) or labels.get("en") or partner_type

    def region_label(self, region: str, lang: str = "en") -> str:
        labels = self.regions.get(region, {}).get("label", {})
        return labels.get(lang) or labels.get("en") or region

    @staticmethod
    def country_name(code: str, lang: str = "en") -> str:
        return Locale.parse(lang).territories.get(code, code)

    @staticmethod
    def language_name(code: str, lang: str = "en") -> str:
        return Locale.parse(lang).languages.get(code, code)

    @staticmethod
    def country_codes() -> list[str]:
        """Every code :meth:`is_country_code` accepts, sorted."""
        return sorted(code for code in Locale.parse("en").territories
                      if Reference.is_country_code(code))

    @staticmethod
    def is_country_code(code: str) -> bool:
        """An ISO 3166-1 alpha-2 country (CLDR's two-letter territories, minus groupings)."""
        return (len(code) == 2 and code.isalpha() and code.isupper()
                and code not in _NOT_COUNTRIES and code in Locale.parse("en").territories)


def _read(folder: Path, name: str) -> dict:
    with open(folder / name, encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=4)
def load_reference(data_dir: Path | None = None) -> Reference:
    folder = Path(data_dir) if data_dir else default_data_dir()
    return Reference(
        data_dir=folder,
        regions=_read(folder, "regions.json"),
        countries=_read(folder, "countries.json"),
        categories=_read(folder, "categories.json"),
        commodities=_read(folder, "commodities.json"),
        partner_types=_read(folder, "partner_types.json"),
    )
