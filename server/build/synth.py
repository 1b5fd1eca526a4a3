"""`cdv synth`: fictitious but shape-valid protocol documents, as many as a national graph holds.

Each document is data/<territoire>/avenant-2020-2022/*.ttl with the ontology and IRI patterns of the real
data (docs/model.md), and its source text sources/<file>.txt whose lines the passages cite. The same seed
gives byte-identical files. Partner organisations, départements, régions, national texts and schemes come from
fixed pools and are re-described identically (types and labels) in every document that names them.
"""

from __future__ import annotations

import random
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from server.build import synth_words as w
from server.build.synth_turtle import (
    Block,
    TurtleFile,
    fr,
    integer,
    iri,
    selector,
    string,
    typed,
    write_files,
)

ID = "https://w3id.org/cdv/id/"
DOCUMENT = "avenant-2020-2022"
FILES = {
    "avenant.ttl": "The fictitious contract, its avenant, periods and reference entries.",
    "structure.ttl": "Axes, thématiques, objectifs and mesures, in reading order.",
    "contributions.ttl": "The partners' contributions, their sections, lists and items.",
    "signatures.ttl": "Signatures, the persons who sign (fictitious names) and their posts.",
    "organisations.ttl": "Organisations and actors the document names.",
    "textes.ttl": "Texts the document cites.",
    "dispositifs.ttl": "Schemes the document names.",
    "territoires.ttl": "The priority neighbourhood and its territories (fictitious codes).",
    "source.ttl": "The source document and every passage the other files cite.",
}


@dataclass
class Territory:
    """Who a synthetic document is about: names and codes, all fictitious."""

    index: int
    name: str
    slug: str
    departement: tuple[str, str, str]
    commune_code: str
    qpv_code: str

    @property
    def doc(self) -> str:
        return f"{ID}{self.slug}/{DOCUMENT}"


def territory(index: int, rng: random.Random) -> Territory:
    """The index-th fictitious territory (0-based); its codes are unique up to 4,000 territories."""
    stem = w.syllables((index * 2897 + 1111) % 4096, 3)  # a bijection of 0..4095: distinct names
    name = stem.capitalize() + rng.choice(("ville", "bourg", "court", "-sur-Fiction", "-les-Songes"))
    departement = w.DEPARTEMENTS[index % len(w.DEPARTEMENTS)]
    number = index // len(w.DEPARTEMENTS)
    slug = "fictif-" + "".join(c if c.isalnum() else "-" for c in name.lower())
    return Territory(
        index, name, slug, departement, f"{departement[0]}{number:03d}", f"QP0{departement[0]}{number:03d}"
    )


@dataclass
class Writer:
    """One document being written: its Turtle files, its source text and the passages it cites."""

    t: Territory
    rng: random.Random
    files: dict[str, TurtleFile] = field(default_factory=lambda: {n: TurtleFile(c) for n, c in FILES.items()})
    lines: list[str] = field(default_factory=list)
    passages: dict[tuple[int, int], None] = field(default_factory=dict)
    described: dict[str, None] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return f"{self.t.doc}/source"

    def printed(self, text: str) -> tuple[int, int]:
        """Print `text` in the source (wrapped at 100 columns, then a blank line); return its lines."""
        start = len(self.lines) + 1
        self.lines.extend(textwrap.wrap(text, 100, break_on_hyphens=False) or [""])
        end = len(self.lines)
        self.lines.append("")
        return start, end

    def block(
        self, file: str, subject: str, types: tuple[str, ...], label: str, span: tuple[int, int]
    ) -> Block:
        """A new resource in `file`, with its French label and its provenance (the lines of `span`)."""
        self.passages[span] = None
        self.described[subject] = None
        block = Block(subject, types).add("rdfs:label", fr(label))
        self.files[file].blocks.append(block)
        return block

    def provenance(self, block: Block, *spans: tuple[int, int]) -> Block:
        """Derived from the source, at the passages of `spans`."""
        self.passages.update(dict.fromkeys(spans))
        passages = (iri(f"{self.source}#L{start}-L{end}") for start, end in spans)
        return block.add("prov:wasDerivedFrom", iri(self.source)).add("cdv:passage", *passages)

    def element(self, block: Block, rank: int, parent: str) -> Block:
        """The properties every structural element has: rank, parent, avenant."""
        return (
            block.add("cdv:ordre", integer(rank))
            .add("cdv:parent", iri(parent))
            .add("cdv:avenant", iri(self.t.doc))
        )

    def once(
        self, file: str, subject: str, types: tuple[str, ...], label: str, span: tuple[int, int]
    ) -> Block | None:
        """A shared resource, described the first time the document names it (None afterwards)."""
        if subject in self.described:
            return None
        return self.provenance(self.block(file, subject, types, label, span), span)

    def passage_blocks(self) -> list[Block]:
        """The source document and every passage cited, in line order."""
        t = self.t
        blocks = [
            Block(self.source, ("cdv:DocumentSource",))
            .add("rdfs:label", fr(f"Texte source de l’avenant au contrat de ville de {t.name} 2020-2022"))
            .add("dcterms:title", fr("Protocole d’engagements renforcés et réciproques"))
            .add("cdv:fichier", string(source_file(t)))
            .add("dcterms:format", iri("http://www.iana.org/assignments/media-types/text/plain"))
            .add("foaf:primaryTopic", iri(t.doc))
        ]
        for start, end in sorted(self.passages):
            blocks.append(
                Block(f"{self.source}#L{start}-L{end}", ("cdv:Passage",))
                .add("oa:hasSource", iri(self.source))
                .add("oa:hasSelector", selector(start, end))
                .add("cdv:ligneDebut", integer(start))
                .add("cdv:ligneFin", integer(end))
            )
        return blocks


def source_file(t: Territory) -> str:
    return f"protocole-{t.slug}-2020-2022.txt"


def organisation(wr: Writer, slug: str, label: str, types: tuple[str, ...], span: tuple[int, int]) -> str:
    """The organisation's IRI, described in organisations.ttl the first time the document names it."""
    subject = f"{ID}organisation/{slug}"
    block = wr.once("organisations.ttl", subject, types, label, span)
    if block is not None:
        block.properties.insert(0, ("skos:prefLabel", (fr(label),)))
    return subject


@dataclass(frozen=True)
class Org:
    """An organisation a document names: IRI slug, label, types, whether other documents share it."""

    slug: str
    label: str
    types: tuple[str, ...]
    role: str
    shared: bool


def local_organisations(t: Territory) -> list[Org]:
    """The commune, the intercommunality, the département's council and prefecture, the région's council."""
    code, dep_label, region = t.departement
    return [
        Org(f"commune-de-{t.slug}", f"Commune de {t.name}", w.PUBLIC, "Maire", False),
        Org(
            f"communaute-de-communes-{t.slug}",
            f"Communauté de communes de {t.name}",
            w.PUBLIC,
            "Président",
            False,
        ),
        Org(f"prefecture-fictive-{code}", f"Préfecture du {dep_label}", w.PUBLIC, "Sous-préfet", True),
        Org(
            f"conseil-departemental-fictif-{code}",
            f"Conseil du {dep_label}",
            w.PUBLIC,
            "Vice-présidente",
            True,
        ),
        Org(
            f"conseil-regional-fictif-{region}",
            f"Conseil de la {w.REGIONS[region]}",
            w.PUBLIC,
            "Vice-président",
            True,
        ),
    ]


def partners() -> list[Org]:
    return [Org(slug, label, types, role, True) for slug, label, types, role in w.PARTNERS]


def name_org(wr: Writer, org: Org, span: tuple[int, int]) -> str:
    return organisation(wr, org.slug, org.label, org.types, span)


def territories(wr: Writer, span: tuple[int, int]) -> str:
    """The neighbourhood, its commune and intercommunality, département and région; return the QPV's IRI."""
    t = wr.t
    code, dep_label, region = t.departement
    geo = f"{ID}territoire/"
    qpv, commune, epci = (
        f"{geo}qpv/{t.qpv_code}",
        f"{geo}commune/{t.commune_code}",
        f"{geo}epci/999{t.index:06d}",
    )
    f = "territoires.ttl"
    wr.block(f, qpv, ("cdv:QuartierPrioritaire",), f"Quartier {t.name}-Centre", span).add(
        "skos:notation", string(t.qpv_code)
    ).add("cdv:commune", iri(commune))
    wr.provenance(wr.files[f].blocks[-1], span)
    wr.provenance(
        wr.block(f, commune, ("igeo:Commune",), t.name, span)
        .add("igeo:codeINSEE", string(t.commune_code))
        .add("igeo:subdivisionDirecteDe", iri(epci))
        .add("igeo:subdivisionDe", iri(f"{geo}departement/{code}")),
        span,
    )
    wr.provenance(
        wr.block(f, epci, ("igeo:Intercommunalite",), f"Communauté de communes de {t.name}", span)
        .add("igeo:codeINSEE", string(f"999{t.index:06d}"))
        .add("igeo:subdivisionDe", iri(f"{geo}departement/{code}")),
        span,
    )
    dep = wr.once(f, f"{geo}departement/{code}", ("igeo:Departement",), dep_label, span)
    if dep is not None:
        dep.add("igeo:codeINSEE", string(code)).add("igeo:subdivisionDirecteDe", iri(f"{geo}region/{region}"))
    reg = wr.once(f, f"{geo}region/{region}", ("igeo:Region",), w.REGIONS[region], span)
    if reg is not None:
        reg.add("igeo:codeINSEE", string(region))
    return qpv


def period(wr: Writer, subject: str, start: str, end: str, span: tuple[int, int]) -> str:
    block = wr.block("avenant.ttl", f"{subject}/periode", ("dcterms:PeriodOfTime",), f"{start}-{end}", span)
    wr.provenance(
        block.add("dcat:startDate", typed(start, "gYear")).add("dcat:endDate", typed(end, "gYear")), span
    )
    return f"{subject}/periode"


def texts(wr: Writer, commune: Org) -> list[str]:
    """The textes de référence: national texts of the pool and the commune's deliberation; their IRIs."""
    chosen = wr.rng.sample(w.TEXTS, 3)
    day = f"2020-0{wr.rng.randint(1, 9)}-{wr.rng.randint(10, 28)}"
    local = (
        f"deliberation-{commune.slug}-{day}",
        "deliberation",
        day,
        f"Délibération du conseil municipal de {wr.t.name}",
    )
    cited = []
    wr.printed("Textes de référence")
    for rank, (slug, kind, date, title) in enumerate([*chosen, local], start=1):
        entry = f"{title} du {date[8:]}/{date[5:7]}/{date[:4]}"
        span = wr.printed(entry)
        subject = f"{ID}texte/{slug}"
        block = wr.once("textes.ttl", subject, ("eli:LegalResource",), title, span)
        if block is not None:
            block.add("dcterms:title", fr(title)).add(
                "eli:type_document", iri(f"{ID}concept/type-de-texte/{kind}")
            )
            block.add("eli:date_document", typed(date, "date"))
            if kind == "deliberation":
                block.add("eli:passed_by", iri(name_org(wr, commune, span)))
        reference = wr.block("avenant.ttl", f"{wr.t.doc}/reference/{rank}", ("cdv:Reference",), entry, span)
        reference.add("cdv:texte", fr(entry)).add("eli:cites", iri(subject))
        wr.provenance(wr.element(reference, rank, wr.t.doc), span)
        cited.append(subject)
    return cited


def contract_and_avenant(wr: Writer, orgs: list[Org]) -> None:
    """Title, territories, references, preamble: the contract, the avenant and what they cite."""
    t = wr.t
    title = f"Avenant au contrat de ville de {t.name} 2020-2022 - Quartier {t.name}-Centre - {t.qpv_code}"
    span = wr.printed("Protocole d’engagements renforcés et réciproques - " + title)
    qpv = territories(wr, span)
    cited = texts(wr, orgs[0])
    preamble = (
        f"Le contrat de ville de {t.name}, signé en 2015 par la {orgs[0].label}, la {orgs[1].label} et leurs "
        f"partenaires, est prolongé jusqu’en 2022. Le conseil citoyen de {t.name} est associé à son suivi."
    )
    pre = wr.printed(preamble)
    for org in orgs[:2]:
        name_org(wr, org, pre)
    contract = f"{ID}{t.slug}/contrat-de-ville"
    actor = f"{ID}{t.slug}/acteur/conseil-citoyen"
    wr.provenance(wr.block("organisations.ttl", actor, ("cdv:Acteur",), "conseil citoyen", pre), pre)
    label = f"Contrat de ville de {t.name}"
    block = wr.block("avenant.ttl", contract, ("cdv:ContratDeVille",), label, pre).add(
        "dcterms:title", fr(label)
    )
    block.add("eli:type_document", iri(f"{ID}concept/type-de-texte/contrat")).add("cdv:quartier", iri(qpv))
    block.add("dcterms:temporal", iri(period(wr, contract, "2015", "2020", pre)))
    block.add("cdv:anneeDeSignature", typed("2015", "gYear")).add(
        "cdv:prolongeJusquEn", typed("2022", "gYear")
    )
    wr.provenance(block.add("cdv:partiePrenante", iri(actor)), pre)
    objet = f"Le présent protocole formalise les engagements des partenaires du contrat de ville de {t.name}."
    obj = wr.printed(objet)
    avenant = wr.block(
        "avenant.ttl", t.doc, ("cdv:Avenant",), f"Avenant au contrat de ville de {t.name} 2020-2022", span
    )
    avenant.add("dcterms:title", fr("Protocole d’engagements renforcés et réciproques")).add(
        "dcterms:alternative", fr(title)
    )
    avenant.add("eli:type_document", iri(f"{ID}concept/type-de-texte/avenant")).add(
        "cdv:modifie", iri(contract)
    )
    avenant.add("cdv:quartier", iri(qpv)).add(
        "dcterms:temporal", iri(period(wr, t.doc, "2020", "2022", span))
    )
    avenant.add("dcterms:language", iri("http://publications.europa.eu/resource/authority/language/FRA"))
    avenant.add("cdv:preambule", fr(preamble)).add("cdv:objet", fr(objet))
    avenant.add("cdv:texteDeReference", *(iri(c) for c in cited))
    wr.provenance(avenant, span, pre, obj)


def spread(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` split in `parts` counts of at least 1."""
    counts = [1] * parts
    for _ in range(total - parts):
        counts[rng.randrange(parts)] += 1
    return counts


def structure(wr: Writer, orgs: list[Org]) -> None:
    """Axes, thématiques, objectifs and mesures, numbered in reading order."""
    rng, doc = wr.rng, wr.t.doc
    axes = w.PILLARS[: rng.choice((3, 4))]
    objectives = spread(rng.randint(13, 17), len(axes), rng)
    measures = iter(spread(rng.randint(26, 34), sum(objectives), rng))
    ranks = {"theme": 0, "objective": 0, "measure": 0}
    for number, ((pillar, label), count) in enumerate(zip(axes, objectives, strict=True), start=1):
        span = wr.printed(f"Axe {number} : {label}")
        axis = f"{doc}/axe/{number}"
        block = wr.block("structure.ttl", axis, ("cdv:Axe",), label, span).add(
            "skos:notation", string(str(number))
        )
        block.add("dcterms:subject", iri(f"{ID}concept/pilier/{pillar}"))
        wr.provenance(wr.element(block, number, doc), span)
        themes = rng.sample(w.THEMES[label], rng.randint(1, 2)) if rng.random() < 0.6 and count >= 2 else []
        groups = spread(count, len(themes), rng) if themes else [count]
        for theme_label, group in zip(themes or [None], groups, strict=True):
            parent = axis
            if theme_label is not None:
                ranks["theme"] += 1
                parent = f"{doc}/thematique/{ranks['theme']}"
                tspan = wr.printed(theme_label)
                theme = wr.block("structure.ttl", parent, ("cdv:Thematique",), theme_label, tspan)
                wr.provenance(wr.element(theme, ranks["theme"], axis).add("cdv:axe", iri(axis)), tspan)
            for _ in range(group):
                objective(wr, ranks, axis, parent if theme_label else None, next(measures), orgs)


def objective(
    wr: Writer, ranks: dict[str, int], axis: str, theme: str | None, count: int, orgs: list[Org]
) -> None:
    """One objective and its `count` measures."""
    rng, doc = wr.rng, wr.t.doc
    ranks["objective"] += 1
    subject = f"{doc}/objectif/{ranks['objective']}"
    label = f"{rng.choice(w.GOALS)} {rng.choice(w.PUBLICS)}."
    span = wr.printed(label)
    block = wr.element(
        wr.block("structure.ttl", subject, ("cdv:Objectif",), label, span), ranks["objective"], theme or axis
    )
    if theme:
        block.add("cdv:thematique", iri(theme))
    wr.provenance(block.add("cdv:axe", iri(axis)), span)
    for _ in range(count):
        ranks["measure"] += 1
        measure(wr, ranks["measure"], subject, axis, theme, orgs)


def measure(wr: Writer, number: int, objective: str, axis: str, theme: str | None, orgs: list[Org]) -> None:
    """Measure `number`: a text with figures, naming an organisation and sometimes a scheme."""
    rng, doc = wr.rng, wr.t.doc
    org = rng.choice(orgs)
    scheme = rng.choice(w.SCHEMES) if rng.random() < 0.5 else None
    text = f"{rng.choice(w.ACTIONS)} {rng.choice(w.PUBLICS)} avec {org.label}"
    text += f", dans le cadre du {scheme[1]}" if scheme else ""
    text += f", pour {rng.randint(2, 40) * 5} personnes par an d’ici {rng.choice((2021, 2022))}."
    span = wr.printed(f"{number}. {text}")
    mentions = [iri(name_org(wr, org, span))]
    if scheme:
        subject = f"{ID}dispositif/{scheme[0]}"
        wr.once("dispositifs.ttl", subject, ("cdv:Dispositif",), scheme[1], span)
        mentions.append(iri(subject))
    block = wr.block("structure.ttl", f"{doc}/mesure/{number}", ("cdv:Mesure",), f"Mesure {number}", span)
    block.add("skos:notation", string(str(number))).add("cdv:numero", integer(number)).add(
        "cdv:texte", fr(text)
    )
    wr.element(block, number, objective).add("cdv:objectif", iri(objective))
    if theme:
        block.add("cdv:thematique", iri(theme))
    wr.provenance(block.add("cdv:axe", iri(axis)).add("cdv:mentionne", *mentions), span)


def contributions(wr: Writer, chosen: list[Org]) -> None:
    """Each partner's contribution: introduction, three sections, three lists of items."""
    rng, doc, name = wr.rng, wr.t.doc, wr.t.name
    for rank, org in enumerate(chosen, start=1):
        subject = f"{doc}/contribution/{org.slug}"
        heading = f"CONTRIBUTION DE {org.label.upper()}"
        span = wr.printed(heading)
        intro = (
            f"{org.label} s’engage aux côtés des partenaires du contrat de ville de {name} et y consacre "
            f"{rng.randint(2, 90) * 1000} euros par an, pour {rng.randint(3, 12)} actions."
        )
        ispan = wr.printed(intro)
        block = wr.block("contributions.ttl", subject, ("cdv:Contribution",), heading, span)
        block.add("cdv:sousTitre", fr(f"Les engagements de {org.label}")).add("cdv:texte", fr(intro))
        block.add("prov:wasAttributedTo", iri(name_org(wr, org, ispan)))
        wr.element(block, rank, doc)
        schemes = rng.sample(w.SCHEMES, 2)
        for slug, label in schemes:
            wr.once("dispositifs.ttl", f"{ID}dispositif/{slug}", ("cdv:Dispositif",), label, ispan)
        block.add("cdv:mobilise", *(iri(f"{ID}dispositif/{slug}") for slug, _ in schemes))
        wr.provenance(block, span, ispan)
        sections = [section(wr, subject, number) for number in (1, 2, 3)]
        item_list(wr, subject, subject, 1, "cdv:Priorite")
        for rank, parent in enumerate(sections[1:], start=2):
            item_list(wr, subject, parent, rank, "cdv:ElementDeListe")


def section(wr: Writer, contribution: str, number: int) -> str:
    subject = f"{contribution}/section/{number}"
    label = wr.rng.choice(
        ("Accès aux droits", "Accompagnement des familles", "Soutien aux projets", "Pilotage")
    )
    span = wr.printed(f"{number}. {label}")
    text = f"Les actions de cette partie concernent {wr.rng.choice(w.PUBLICS)} de {wr.t.name}."
    tspan = wr.printed(text)
    block = wr.block("contributions.ttl", subject, ("cdv:Section",), label, span).add(
        "skos:notation", string(str(number))
    )
    block.add("cdv:texte", fr(text)).add("cdv:contribution", iri(contribution))
    wr.provenance(wr.element(block, number, contribution), span, tspan)
    return subject


def item_list(wr: Writer, contribution: str, parent: str, rank: int, item_class: str) -> None:
    """List `rank` of the contribution, under `parent`, with 3 to 5 items."""
    subject = f"{contribution}/liste/{rank}"
    lead = (
        "Les priorités retenues sont les suivantes :" if rank == 1 else "Les engagements sont les suivants :"
    )
    span = wr.printed(lead)
    block = wr.block("contributions.ttl", subject, ("cdv:Liste",), lead, span).add(
        "cdv:contribution", iri(contribution)
    )
    items = []
    for number in range(1, wr.rng.randint(3, 5) + 1):
        text = f"{wr.rng.choice(w.GOALS)} {wr.rng.choice(w.PUBLICS)}"
        ispan = wr.printed(f"- {text}")
        items.append((number, text, ispan))
    wr.provenance(wr.element(block, rank, parent), (span[0], items[-1][2][1]))
    for number, text, ispan in items:
        item = wr.block("contributions.ttl", f"{subject}/{number}", (item_class,), text, ispan)
        wr.provenance(wr.element(item.add("cdv:texte", fr(text)), number, subject), ispan)


FEMININE = {"Directrice générale", "Présidente", "Directrice", "Vice-présidente"}


def signatures(wr: Writer, signing: list[Org]) -> None:
    """One signature per organisation: the person (fictitious name), the post, the organisation."""
    rng, t = wr.rng, wr.t
    for rank, org in enumerate(signing, start=1):
        given, civility = rng.choice(w.GIVEN)
        if org.role != "Maire":  # the civility agrees with the role as printed
            wanted = "Madame" if org.role in FEMININE else "Monsieur"
            given, civility = rng.choice([g for g in w.GIVEN if g[1] == wanted])
        family = f"{w.FAMILY_ROOTS[rank % len(w.FAMILY_ROOTS)]}{w.syllables(t.index * 16 + rank, 4)}".upper()
        person = f"{ID}personne/{given.lower()}-{family.lower()}".replace("é", "e")
        post_label = f"{org.role} pour {t.name}" if org.shared else f"{org.role} de la {org.label}"
        post_slug = org.role.lower().replace(" ", "-").replace("é", "e") + (
            f"-{t.slug}" if org.shared else ""
        )
        post = f"{ID}poste/{org.slug}/{post_slug}"
        heading = f"{civility} {'la' if org.role in FEMININE else 'le'} {post_label}"
        span = wr.printed(f"{heading} {given} {family}")
        block = wr.block("signatures.ttl", f"{t.doc}/signature/{rank}", ("cdv:Signature",), heading, span)
        block.add("cdv:signataire", iri(person)).add("cdv:poste", iri(post)).add(
            "cdv:organisation", iri(name_org(wr, org, span))
        )
        wr.provenance(wr.element(block, rank, t.doc), span)
        who = wr.block("signatures.ttl", person, ("foaf:Person",), f"{given} {family}", span)
        who.add("foaf:name", string(f"{given} {family}")).add("foaf:givenName", string(given))
        wr.provenance(who.add("foaf:familyName", string(family)).add("foaf:title", string(civility)), span)
        job = wr.block("signatures.ttl", post, ("org:Post",), post_label, span).add(
            "org:postIn", iri(f"{ID}organisation/{org.slug}")
        )
        wr.provenance(job.add("org:heldBy", iri(person)), span)


def write_document(index: int, seed: int, out: Path) -> int:
    """Write the index-th document (0-based) and its source text under `out`; return its triple count."""
    rng = random.Random(f"cdv-synth/{seed}/{index}")
    t = territory(index, rng)
    wr = Writer(t, rng)
    local = local_organisations(t)
    pool = partners()
    contract_and_avenant(wr, local)
    structure(wr, [*local[:2], *rng.sample(pool, 6)])
    contributions(wr, rng.sample(pool, rng.randint(3, 5)))
    signatures(wr, [*local, *rng.sample(pool, 10)])
    wr.files["source.ttl"].blocks.extend(wr.passage_blocks())
    triples = write_files(out / t.slug / DOCUMENT, wr.files)
    sources = out / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    (sources / source_file(t)).write_text("\n".join(wr.lines) + "\n", "utf-8")
    return triples


def synthesize(count: int, out: Path, seed: int = 1) -> Iterator[int]:
    """Write `count` documents under `out` (data layout); yield each one's triple count as it is written."""
    for index in range(count):
        yield write_document(index, seed, out)
