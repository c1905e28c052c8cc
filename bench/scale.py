"""A synthetic scale set in the exchange format (FORMAT.md v1), for latency and throughput.

    python bench/scale.py OUT.json [--offerings 10000] [--practices 10000]
                                   [--associations 500] [--needs 1000] [--seed 0]

Texts are assembled from ASM phrases in English, French, Spanish and Portuguese (templates: this
set measures speed, not ranking quality). Regions, countries, commodities, eligibility and
capacity are random but valid against the bundled reference data; categories are the 14 of
``data/categories.json``. The same arguments and seed always give the same document.
``build_scale_set`` is imported by ``bench/latency.py``.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from pathlib import Path
from typing import Annotated

import typer

# --------------------------------------------------------------------------- phrase banks
# Three topic phrases per category and language (en, fr, es, pt).
TOPICS: dict[str, dict[str, list[str]]] = {
    "finance": {
        "en": ["loans for water pumps and crushers", "a savings group and mobile money to pay workers",
               "pre-financing from a gold buyer"],
        "fr": ["des prêts pour des pompes à eau et des concasseurs",
               "une tontine et le mobile money pour payer les ouvriers",
               "un préfinancement par un acheteur d'or"],
        "es": ["créditos para bombas de agua y trituradoras",
               "un grupo de ahorro y dinero móvil para pagar a los trabajadores",
               "prefinanciamiento de un comprador de oro"],
        "pt": ["empréstimos para bombas de água e britadores",
               "um grupo de poupança e dinheiro móvel para pagar os trabalhadores",
               "pré-financiamento de um comprador de ouro"],
    },
    "ohs": {
        "en": ["shoring pit walls so they do not collapse",
               "helmets, boots and dust masks for the diggers",
               "first aid training and an emergency plan for accidents"],
        "fr": ["le boisage des puits pour éviter les éboulements",
               "des casques, des bottes et des masques anti-poussière",
               "une formation aux premiers secours et un plan d'urgence"],
        "es": ["el entibado de los pozos para evitar derrumbes",
               "cascos, botas y mascarillas contra el polvo",
               "capacitación en primeros auxilios y un plan de emergencia"],
        "pt": ["o escoramento dos poços para evitar desabamentos",
               "capacetes, botas e máscaras contra a poeira",
               "formação em primeiros socorros e um plano de emergência"],
    },
    "health": {
        "en": ["mercury exposure testing for the people who burn amalgam",
               "malaria prevention and clean drinking water at the camp",
               "a mobile clinic visiting the mining sites"],
        "fr": ["le dépistage de l'exposition au mercure",
               "la lutte contre le paludisme et l'eau potable au campement",
               "une clinique mobile qui visite les sites miniers"],
        "es": ["pruebas de exposición al mercurio para quienes queman la amalgama",
               "prevención de la malaria y agua potable en el campamento",
               "una clínica móvil que visite las minas"],
        "pt": ["testes de exposição ao mercúrio para quem queima o amálgama",
               "prevenção da malária e água potável no acampamento",
               "uma clínica móvel que visite os garimpos"],
    },
    "sgbv": {
        "en": ["protecting women from harassment and violence at the site",
               "a safe way to report abuse", "support for survivors of sexual violence"],
        "fr": ["la protection des femmes contre le harcèlement et les violences sur le site",
               "un moyen sûr de signaler les abus",
               "l'accompagnement des survivantes de violences sexuelles"],
        "es": ["proteger a las mujeres del acoso y la violencia en la mina",
               "una forma segura de denunciar abusos",
               "apoyo a sobrevivientes de violencia sexual"],
        "pt": ["proteger as mulheres do assédio e da violência no garimpo",
               "uma forma segura de denunciar abusos",
               "apoio às sobreviventes de violência sexual"],
    },
    "gender": {
        "en": ["more women in leadership roles in the association",
               "childcare so mothers can work at the washing site",
               "equal pay for the women who crush and sort ore"],
        "fr": ["plus de femmes aux postes de direction de l'association",
               "une garderie pour que les mères puissent travailler au lavage",
               "un salaire égal pour les femmes qui concassent et trient le minerai"],
        "es": ["más mujeres en la directiva de la asociación",
               "guardería para que las madres puedan trabajar en el lavado",
               "igual pago para las mujeres que chancan y seleccionan mineral"],
        "pt": ["mais mulheres na direção da associação",
               "creche para que as mães possam trabalhar na lavagem",
               "salário igual para as mulheres que britam e escolhem o minério"],
    },
    "market_access": {
        "en": ["a fair price and honest scales when we sell",
               "selling directly to a responsible refiner",
               "traceability documents that buyers accept"],
        "fr": ["un prix juste et des balances honnêtes à la vente",
               "vendre directement à un affineur responsable",
               "des documents de traçabilité acceptés par les acheteurs"],
        "es": ["un precio justo y balanzas honestas al vender",
               "vender directamente a una refinadora responsable",
               "documentos de trazabilidad que acepten los compradores"],
        "pt": ["um preço justo e balanças honestas na venda",
               "vender diretamente para uma refinadora responsável",
               "documentos de rastreabilidade aceitos pelos compradores"],
    },
    "environment": {
        "en": ["replacing mercury with gravity concentration",
               "settling ponds so the river stays clean", "backfilling and replanting old pits"],
        "fr": ["remplacer le mercure par la concentration gravimétrique",
               "des bassins de décantation pour garder la rivière propre",
               "le remblayage et le reboisement des anciens puits"],
        "es": ["reemplazar el mercurio con concentración gravimétrica",
               "pozas de sedimentación para que el río quede limpio",
               "rellenar y reforestar los pozos abandonados"],
        "pt": ["substituir o mercúrio por concentração gravítica",
               "bacias de decantação para manter o rio limpo",
               "aterrar e reflorestar as cavas antigas"],
    },
    "land_access": {
        "en": ["a dispute with the concession holder over our plots",
               "agreements with farmers and the chief on land use",
               "secure tenure for the land we mine"],
        "fr": ["un conflit avec le titulaire du permis sur nos parcelles",
               "des accords avec les agriculteurs et le chef coutumier sur la terre",
               "la sécurisation foncière des terrains exploités"],
        "es": ["un conflicto con el concesionario por nuestras parcelas",
               "acuerdos con los agricultores y la comunidad sobre el uso de la tierra",
               "seguridad sobre la tierra que trabajamos"],
        "pt": ["um conflito com o titular da concessão sobre nossas áreas",
               "acordos com os agricultores e a comunidade sobre o uso da terra",
               "segurança fundiária para a área que mineramos"],
    },
    "formalization": {
        "en": ["getting a mining licence for the group",
               "registering the association as a cooperative",
               "understanding the permits and taxes we must pay"],
        "fr": ["obtenir un permis d'exploitation artisanale pour le groupe",
               "enregistrer l'association comme coopérative",
               "comprendre les autorisations et les taxes à payer"],
        "es": ["obtener un título minero para el grupo", "registrar la asociación como cooperativa",
               "entender los permisos y los impuestos que debemos pagar"],
        "pt": ["obter a permissão de lavra garimpeira para o grupo",
               "registrar a associação como cooperativa",
               "entender as licenças e os impostos que devemos pagar"],
    },
    "livelihoods": {
        "en": ["other income for the months when the pits are flooded",
               "poultry and vegetable farming for miners' families",
               "skills for young people leaving the mines"],
        "fr": ["d'autres revenus pendant les mois où les puits sont inondés",
               "l'élevage de volailles et le maraîchage pour les familles",
               "des métiers pour les jeunes qui quittent les mines"],
        "es": ["otros ingresos en los meses en que los pozos se inundan",
               "crianza de aves y huertos para las familias mineras",
               "oficios para los jóvenes que dejan la minería"],
        "pt": ["outra renda nos meses em que as cavas ficam alagadas",
               "criação de galinhas e hortas para as famílias",
               "profissões para os jovens que deixam o garimpo"],
    },
    "technology": {
        "en": ["a better crusher and a shaking table", "ventilation for the deep shafts",
               "a small solar system to run the pumps"],
        "fr": ["un meilleur concasseur et une table à secousses", "la ventilation des puits profonds",
               "un petit système solaire pour les pompes"],
        "es": ["una mejor chancadora y una mesa vibratoria",
               "ventilación para los socavones profundos",
               "un pequeño sistema solar para las bombas"],
        "pt": ["um britador melhor e uma mesa vibratória", "ventilação para os poços profundos",
               "um pequeno sistema solar para as bombas"],
    },
    "training": {
        "en": ["bookkeeping and record keeping for the treasurer",
               "basic geology to find where the ore runs", "training our members as trainers"],
        "fr": ["la comptabilité et la tenue des registres pour le trésorier",
               "des notions de géologie pour suivre le filon",
               "former nos membres comme formateurs"],
        "es": ["contabilidad y registros para el tesorero", "geología básica para seguir la veta",
               "formar a nuestros socios como capacitadores"],
        "pt": ["contabilidade e registros para o tesoureiro", "geologia básica para seguir o filão",
               "formar nossos associados como multiplicadores"],
    },
    "advocacy": {
        "en": ["speaking to the ministry about the new mining code",
               "a voice in the district mining committee",
               "stopping the eviction of miners by the police"],
        "fr": ["plaider auprès du ministère sur le nouveau code minier",
               "une place au comité minier de la préfecture",
               "lutter contre les expulsions de mineurs par la police"],
        "es": ["incidir ante el ministerio sobre la nueva ley minera",
               "una voz en la mesa minera del municipio",
               "frenar los desalojos de mineros por la policía"],
        "pt": ["dialogar com o ministério sobre o novo código de mineração",
               "uma voz no conselho de mineração do município",
               "impedir a expulsão de garimpeiros pela polícia"],
    },
    "governance": {
        "en": ["clear statutes and elections for the board", "an audit of how the dues are spent",
               "resolving conflicts between members fairly"],
        "fr": ["des statuts clairs et des élections pour le bureau",
               "un audit de l'utilisation des cotisations",
               "régler équitablement les conflits entre membres"],
        "es": ["estatutos claros y elecciones para la directiva",
               "una auditoría de cómo se gastan las cuotas",
               "resolver con justicia los conflictos entre socios"],
        "pt": ["estatutos claros e eleições para a diretoria",
               "uma auditoria de como as mensalidades são gastas",
               "resolver com justiça os conflitos entre associados"],
    },
}

NEED_TEMPLATES = {
    "en": ["Our association of {members} {commodity} miners in {country} needs help with {topic}. {detail}",
           "We are {members} members working {sites} sites. {detail} We are looking for {topic} and also {topic2}.",
           "Since {year} we have struggled with {topic}. Who can help us? {detail}",
           "{detail} We need support with {topic} before the next rainy season.",
           "The women of our group ask for {topic}. {detail} They also mention {topic2}."],
    "fr": ["Notre association de {members} orpailleurs ({commodity}) au {country} a besoin d'aide pour {topic}. {detail}",
           "Nous sommes {members} membres sur {sites} sites. {detail} Nous cherchons {topic} et aussi {topic2}.",
           "Depuis {year} nous avons des difficultés avec {topic}. Qui peut nous aider ? {detail}",
           "{detail} Il nous faut un appui pour {topic} avant la prochaine saison des pluies.",
           "Les femmes du groupe demandent {topic}. {detail} Elles parlent aussi de {topic2}."],
    "es": ["Nuestra asociación de {members} mineros de {commodity} en {country} necesita ayuda con {topic}. {detail}",
           "Somos {members} socios que trabajan {sites} frentes. {detail} Buscamos {topic} y también {topic2}.",
           "Desde {year} tenemos problemas con {topic}. ¿Quién nos puede ayudar? {detail}",
           "{detail} Necesitamos apoyo con {topic} antes de la próxima temporada de lluvias.",
           "Las mujeres del grupo piden {topic}. {detail} También mencionan {topic2}."],
    "pt": ["Nossa associação de {members} garimpeiros de {commodity} em {country} precisa de ajuda com {topic}. {detail}",
           "Somos {members} associados trabalhando em {sites} frentes. {detail} Procuramos {topic} e também {topic2}.",
           "Desde {year} temos dificuldades com {topic}. Quem pode nos ajudar? {detail}",
           "{detail} Precisamos de apoio com {topic} antes da próxima estação das chuvas.",
           "As mulheres do grupo pedem {topic}. {detail} Elas também falam de {topic2}."],
}

DETAILS = {
    "en": ["The nearest town is {km} km away on a bad road.", "Most members have no bank account.",
           "We work mainly in the dry season.", "Many young people joined us this year.",
           "The district office rarely visits us.", "We have {sites} pits and one washing plant.",
           "Last year {n} members were injured.", "The buyers come only once a month."],
    "fr": ["La ville la plus proche est à {km} km par une mauvaise piste.",
           "La plupart des membres n'ont pas de compte bancaire.",
           "Nous travaillons surtout en saison sèche.", "Beaucoup de jeunes nous ont rejoints cette année.",
           "Le service des mines passe rarement chez nous.", "Nous avons {sites} puits et une laverie.",
           "L'an dernier {n} membres ont été blessés.", "Les acheteurs ne viennent qu'une fois par mois."],
    "es": ["El pueblo más cercano está a {km} km por una mala trocha.",
           "La mayoría de los socios no tiene cuenta bancaria.",
           "Trabajamos sobre todo en la época seca.", "Muchos jóvenes se unieron este año.",
           "La oficina de minería casi nunca nos visita.", "Tenemos {sites} socavones y un quimbalete.",
           "El año pasado {n} socios se accidentaron.", "Los compradores vienen solo una vez al mes."],
    "pt": ["A cidade mais próxima fica a {km} km por uma estrada ruim.",
           "A maioria dos associados não tem conta no banco.",
           "Trabalhamos principalmente na estação seca.", "Muitos jovens entraram este ano.",
           "O órgão de mineração quase nunca nos visita.", "Temos {sites} cavas e uma planta de lavagem.",
           "No ano passado {n} associados se feriram.", "Os compradores vêm só uma vez por mês."],
}

OFFER_TITLES = {
    "en": ["{Topic}", "{Topic} for {commodity} miners", "Programme {code}: {topic}",
           "Support for {topic}"],
    "fr": ["{Topic}", "{Topic} pour les mineurs ({commodity})", "Programme {code} : {topic}",
           "Appui pour {topic}"],
    "es": ["{Topic}", "{Topic} para mineros de {commodity}", "Programa {code}: {topic}",
           "Apoyo para {topic}"],
    "pt": ["{Topic}", "{Topic} para garimpeiros de {commodity}", "Programa {code}: {topic}",
           "Apoio para {topic}"],
}

OFFER_TEMPLATES = {
    "en": ["We provide {topic} to artisanal and small-scale mining associations. {extra} {terms}",
           "Our team helps associations with {topic} and {topic2}. {extra} {terms}",
           "{extra} The programme covers {topic}. {terms}"],
    "fr": ["Nous proposons {topic} aux associations minières artisanales. {extra} {terms}",
           "Notre équipe accompagne les associations pour {topic} et {topic2}. {extra} {terms}",
           "{extra} Le programme couvre {topic}. {terms}"],
    "es": ["Ofrecemos {topic} a asociaciones de minería artesanal y de pequeña escala. {extra} {terms}",
           "Nuestro equipo acompaña a las asociaciones con {topic} y {topic2}. {extra} {terms}",
           "{extra} El programa cubre {topic}. {terms}"],
    "pt": ["Oferecemos {topic} a associações de garimpo e mineração artesanal. {extra} {terms}",
           "Nossa equipe apoia as associações com {topic} e {topic2}. {extra} {terms}",
           "{extra} O programa cobre {topic}. {terms}"],
}

OFFER_EXTRAS = {
    "en": ["Support lasts {months} months with {visits} site visits.",
           "We cover {pct}% of the cost; the association contributes the rest in cash or labour.",
           "Sessions are held at the mine in the local language.",
           "Each cohort takes {n} associations."],
    "fr": ["L'appui dure {months} mois avec {visits} visites de terrain.",
           "Nous prenons en charge {pct}% du coût ; l'association apporte le reste en espèces ou en travail.",
           "Les séances ont lieu sur le site dans la langue locale.",
           "Chaque cohorte accueille {n} associations."],
    "es": ["El apoyo dura {months} meses con {visits} visitas de campo.",
           "Cubrimos el {pct}% del costo; la asociación aporta el resto en efectivo o en trabajo.",
           "Las sesiones se hacen en la mina en el idioma local.",
           "Cada cohorte recibe {n} asociaciones."],
    "pt": ["O apoio dura {months} meses com {visits} visitas de campo.",
           "Cobrimos {pct}% do custo; a associação entra com o resto em dinheiro ou trabalho.",
           "As sessões acontecem no garimpo na língua local.",
           "Cada turma recebe {n} associações."],
}

OFFER_TERMS = {
    "en": ["Open to associations of at least {min} members.", "Licensed groups only.",
           "Women-led associations are prioritised.", "No fee."],
    "fr": ["Ouvert aux associations d'au moins {min} membres.", "Réservé aux groupes titulaires d'un permis.",
           "Les associations dirigées par des femmes sont prioritaires.", "Sans frais."],
    "es": ["Abierto a asociaciones de al menos {min} socios.", "Solo grupos con título minero.",
           "Se da prioridad a asociaciones lideradas por mujeres.", "Sin costo."],
    "pt": ["Aberto a associações com pelo menos {min} associados.", "Somente grupos licenciados.",
           "Associações lideradas por mulheres têm prioridade.", "Sem custo."],
}

PRACTICE_TEMPLATES = {
    "en": ["Since {year} we have organised {topic}. {detail} Other associations can visit and learn how we did it.",
           "For {years} years our members have practised {topic}, and {n} families benefit. {detail}",
           "We solved {topic} by working together with the district office. {detail}"],
    "fr": ["Depuis {year} nous avons mis en place {topic}. {detail} D'autres associations peuvent venir voir comment nous avons fait.",
           "Depuis {years} ans nos membres pratiquent {topic}, et {n} familles en profitent. {detail}",
           "Nous avons réglé la question de {topic} avec le service des mines. {detail}"],
    "es": ["Desde {year} organizamos {topic}. {detail} Otras asociaciones pueden visitarnos y aprender cómo lo hicimos.",
           "Hace {years} años nuestros socios practican {topic}, y {n} familias se benefician. {detail}",
           "Resolvimos el tema de {topic} junto con la oficina de minería. {detail}"],
    "pt": ["Desde {year} organizamos {topic}. {detail} Outras associações podem nos visitar e aprender como fizemos.",
           "Há {years} anos nossos associados praticam {topic}, e {n} famílias se beneficiam. {detail}",
           "Resolvemos a questão de {topic} junto com o órgão de mineração. {detail}"],
}

PARTNER_WORDS = ["Foundation", "Fund", "Trust", "Alliance", "Institute", "Network", "Bank",
                 "Cooperative", "Initiative", "Facility", "Refinery", "Agency"]
PARTNER_STEMS = ["Kora", "Sahel", "Andes", "Mekong", "Zambezi", "Volta", "Amazon", "Sierra",
                 "Pacific", "Great Lakes", "Altai", "Atlas", "Orinoco", "Limpopo", "Niger",
                 "Congo", "Ruwenzori", "Tapajós", "Cordillera", "Borneo"]
ASSOC_WORDS = {"en": "Miners Association", "fr": "Coopérative minière", "es": "Asociación minera",
               "pt": "Cooperativa garimpeira"}
PT_COUNTRIES = {"BR", "AO", "MZ", "GW", "CV", "ST", "TL"}
ES_EXCEPTIONS = {"BR", "GY", "SR", "GF", "HT", "JM", "TT", "BS", "BB", "LC", "VC", "GD", "AG",
                 "DM", "KN", "BZ"}
COMMODITY_WEIGHTS = {"gold": 10, "gemstones": 3, "diamonds": 2, "cobalt": 1, "copper": 1,
                     "tin_tantalum_tungsten": 2, "coal": 1, "salt": 1, "sand_gravel": 1,
                     "jade": 1, "other": 1}


def _main_language(country: str, region: str) -> str:
    if country in PT_COUNTRIES:
        return "pt"
    if country == "HT" or region == "africa_francophone":
        return "fr"
    if region == "latin_america_caribbean" and country not in ES_EXCEPTIONS:
        return "es"
    return "en"


class _Texts:
    """Fills the templates with the reference data's own multilingual labels."""

    def __init__(self, rng: random.Random, ref):
        self.rng, self.ref = rng, ref

    def _numbers(self) -> dict:
        r = self.rng
        return {"km": r.randint(3, 180), "sites": r.randint(1, 40), "n": r.randint(2, 60),
                "year": r.randint(2005, 2024), "years": r.randint(2, 25),
                "months": r.randint(3, 36), "visits": r.randint(2, 12),
                "pct": r.choice((30, 40, 50, 60, 70, 80)), "code": f"{r.randint(100, 999)}"}

    def _topics(self, category: str, lang: str) -> tuple[str, str]:
        r = self.rng
        topic = r.choice(TOPICS[category][lang])
        other = category if r.random() < 0.6 else r.choice(list(TOPICS))
        topic2 = r.choice([t for t in TOPICS[other][lang] if t != topic] or TOPICS[other][lang])
        return topic, topic2

    def need(self, category: str, lang: str, assoc: dict) -> str:
        r = self.rng
        topic, topic2 = self._topics(category, lang)
        values = self._numbers()
        detail = r.choice(DETAILS[lang]).format(**values)
        if r.random() < 0.5:
            detail += " " + r.choice(DETAILS[lang]).format(**values)
        commodity = self.ref.commodity_label(assoc["commodities"][0], lang).lower()
        return r.choice(NEED_TEMPLATES[lang]).format(
            topic=topic, topic2=topic2, detail=detail, members=assoc["members"],
            commodity=commodity, country=self.ref.country_name(assoc["country"], lang),
            **{k: v for k, v in values.items() if k != "n"}).strip()

    def practice(self, category: str, lang: str) -> str:
        r = self.rng
        topic, _ = self._topics(category, lang)
        values = self._numbers()
        detail = r.choice(DETAILS[lang]).format(**values)
        return r.choice(PRACTICE_TEMPLATES[lang]).format(topic=topic, detail=detail,
                                                         **values).strip()

    def offering(self, category: str, lang: str, commodities: list[str],
                 min_members: int) -> tuple[str, str]:
        r = self.rng
        topic, topic2 = self._topics(category, lang)
        values = self._numbers()
        commodity = self.ref.commodity_label(commodities[0] if commodities else "gold", lang).lower()
        title = r.choice(OFFER_TITLES[lang]).format(
            Topic=topic[0].upper() + topic[1:], topic=topic, commodity=commodity, code=values["code"])
        extra = " ".join(t.format(**values) for t in r.sample(OFFER_EXTRAS[lang], r.randint(1, 2)))
        terms = r.choice(OFFER_TERMS[lang]).format(min=max(min_members, 5))
        description = r.choice(OFFER_TEMPLATES[lang]).format(
            topic=topic, topic2=topic2, extra=extra, terms=terms)
        return title[:300], description.strip()


def build_scale_set(offerings: int = 10_000, practices: int = 10_000, associations: int = 500,
                    needs: int = 1_000, seed: int = 0, ref=None) -> dict:
    """An exchange document (a JSON-ready dict) of the requested size; deterministic in seed."""
    if ref is None:
        from matcher.reference import load_reference

        ref = load_reference()
    rng = random.Random(seed)
    texts = _Texts(rng, ref)
    categories = list(ref.categories)
    commodities = list(ref.commodities)
    cweights = [COMMODITY_WEIGHTS.get(c, 1) for c in commodities]
    regions = list(ref.regions)
    by_region: dict[str, list[str]] = {r: [] for r in regions}
    for code, region in ref.countries.items():
        by_region.setdefault(region, []).append(code)
    countries = [c for c in ref.countries if ref.is_country_code(c)]
    by_region = {region: [c for c in codes if ref.is_country_code(c)]
                 for region, codes in by_region.items()}
    partner_types = list(ref.partner_types)

    def pick_commodities(k_max: int) -> list[str]:
        k = rng.randint(1, k_max)
        return sorted(set(rng.choices(commodities, cweights, k=k)))

    # associations, spread over the regions; needs and practices dealt out round-robin-ish
    assocs = []
    for i in range(associations):
        country = rng.choice(countries)
        region = ref.countries[country]
        lang = _main_language(country, region)
        langs = [lang] + (["en"] if lang != "en" and rng.random() < 0.3 else [])
        members = int(min(max(rng.lognormvariate(4.5, 1.0), 8), 20_000))
        stem = rng.choice(PARTNER_STEMS)
        assocs.append({
            "id": f"scale-a-{i:05d}", "name": f"{stem} {ASSOC_WORDS[lang]} {i}",
            "country": country, "region": region, "languages": langs,
            "commodities": pick_commodities(2), "members": members,
            "women_led": rng.random() < 0.15, "formal_license": rng.random() < 0.6,
            "description": "", "needs": [], "practices": [],
        })
    for i in range(needs):
        assoc = assocs[i % associations] if i < associations else rng.choice(assocs)
        category = rng.choice(categories)
        need = {"id": f"scale-n-{i:06d}", "text": texts.need(category, assoc["languages"][0], assoc)}
        if rng.random() < 0.6:
            need["category"] = category
        assoc["needs"].append(need)
    for i in range(practices):
        assoc = assocs[i % associations] if i < associations else rng.choice(assocs)
        category = rng.choice(categories)
        practice = {"id": f"scale-pr-{i:06d}",
                    "text": texts.practice(category, assoc["languages"][0])}
        if rng.random() < 0.7:
            practice["category"] = category
        assoc["practices"].append(practice)

    # partners with 1-9 offerings each (about 5 on average)
    partners = []
    made = 0
    while made < offerings:
        pid = len(partners)
        lang = rng.choices(("en", "fr", "es", "pt"), (7, 1, 1, 1))[0]
        count = min(rng.randint(1, 9), offerings - made)
        stem = rng.choice(PARTNER_STEMS)
        partner = {"id": f"scale-p-{pid:05d}",
                   "name": f"{stem} {rng.choice(PARTNER_WORDS)} {pid}",
                   "type": rng.choice(partner_types),
                   "description": "", "languages": [lang], "offerings": []}
        for _ in range(count):
            off_regions: list[str] = []
            off_countries: list[str] = []
            if rng.random() < 0.6:
                off_regions = sorted(rng.sample(regions, rng.randint(1, 2)))
            if rng.random() < (0.35 if off_regions else 0.1):  # countries within the regions
                pool = [c for r in off_regions for c in by_region[r]] if off_regions else countries
                off_countries = sorted(rng.sample(pool, min(len(pool), rng.randint(1, 8))))
            off_commodities = pick_commodities(3) if rng.random() < 0.5 else []
            min_members = rng.choice((0, 0, 0, 0, 0, 10, 20, 50, 100))
            category = rng.choice(categories)
            title, description = texts.offering(category, lang, off_commodities, min_members)
            languages = sorted({lang, *rng.sample(("en", "fr", "es", "pt"), rng.randint(0, 2))})
            partner["offerings"].append({
                "id": f"scale-o-{made:06d}", "title": title, "description": description,
                "category": category, "regions": off_regions, "countries": off_countries,
                "languages": languages, "commodities": off_commodities,
                "eligibility": {"women_led_only": rng.random() < 0.08,
                                "min_members": min_members,
                                "requires_formal_license": rng.random() < 0.25},
                "capacity": None if rng.random() < 0.4 else rng.randint(1, 50),
            })
            made += 1
        partners.append(partner)
    return {"partners": partners, "associations": assocs}


def describe(doc: dict) -> dict[str, int | float]:
    """Counts and text statistics of an exchange document."""
    offerings = [o for p in doc["partners"] for o in p["offerings"]]
    needs = [n for a in doc["associations"] for n in a["needs"]]
    practices = [p for a in doc["associations"] for p in a["practices"]]
    texts = ([f"{o['title']}. {o['description']}" for o in offerings]
             + [n["text"] for n in needs] + [p["text"] for p in practices])
    return {"partners": len(doc["partners"]), "offerings": len(offerings),
            "associations": len(doc["associations"]), "needs": len(needs),
            "practices": len(practices), "texts": len(texts), "unique texts": len(set(texts)),
            "median words per text": statistics.median(len(t.split()) for t in texts)}


def main(
    out: Annotated[Path, typer.Argument(help="where to write the exchange-format JSON")],
    offerings: Annotated[int, typer.Option(min=0)] = 10_000,
    practices: Annotated[int, typer.Option(min=0)] = 10_000,
    associations: Annotated[int, typer.Option(min=1)] = 500,
    needs: Annotated[int, typer.Option(min=0)] = 1_000,
    seed: int = 0,
    validate: Annotated[bool, typer.Option(help="check it with matcher.exchange.parse_document")] = True,
) -> None:
    """Write a synthetic exchange document of the given size and print what is in it."""
    from rich.console import Console
    from rich.table import Table

    start = time.perf_counter()
    doc = build_scale_set(offerings, practices, associations, needs, seed)
    built = time.perf_counter() - start
    text = json.dumps(doc, ensure_ascii=False)
    out.write_text(text, encoding="utf-8")
    table = Table(title=f"scale set {out} (seed {seed})", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in describe(doc).items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else f"{value:g}")
    table.add_row("size (MB)", f"{len(text.encode('utf-8')) / 1e6:.1f}")
    table.add_row("generated in (s)", f"{built:.2f}")
    if validate:
        from matcher.exchange import parse_document
        from matcher.reference import load_reference

        start = time.perf_counter()
        parse_document(text, load_reference())  # raises InvalidInput on any problem
        table.add_row("valid (parse_document, s)", f"yes ({time.perf_counter() - start:.2f})")
    Console().print(table)


if __name__ == "__main__":
    typer.run(main)
