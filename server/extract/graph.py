"""Build the draft graph of a protocol in the project's ontology, with provenance line ranges.

The triples mirror what the curated data of data/ states for the same facts (docs/model.md): one resource per
element, reading order in cdv:ordre, printed numbers in skos:notation, every element derived from the source
document and pointing to the passage (lines) it was read from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, PROV, RDF, RDFS, SKOS, XSD

from server.core.vocab import DATA, prefixes
from server.extract.mint import STATE, Minter, local_name
from server.extract.model import Contribution, Kind, Part, Passage, Protocol, Reference, Signature, Signing
from server.extract.names import STATE_POST
from server.extract.pillars import guess_pillar
from server.extract.report import Note
from server.extract.structure import walk

CDV = Namespace("https://w3id.org/cdv/ontology#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
OA = Namespace("http://www.w3.org/ns/oa#")
CPOV = Namespace("http://data.europa.eu/m8g/")
RFC5147 = URIRef("http://tools.ietf.org/rfc/rfc5147")
TEXT_PLAIN = URIRef("http://www.iana.org/assignments/media-types/text/plain")
FRENCH = URIRef("http://publications.europa.eu/resource/authority/language/FRA")
PREFIXES = prefixes("cdv", *DATA)


def fr(text: str) -> Literal:
    """A French literal."""
    return Literal(text, lang="fr")


def integer(value: int) -> Literal:
    """An xsd:integer literal."""
    return Literal(value, datatype=XSD.integer)


@dataclass
class GraphBuilder:
    """Accumulates the triples of one document and the notes about what could not be completed."""

    mint: Minter
    source_file: str
    graph: Graph = field(default_factory=Graph)
    notes: list[Note] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Bind the prefixes the Turtle output uses."""
        for prefix, namespace in PREFIXES.items():
            self.graph.bind(prefix, namespace)
        self.graph.bind("", URIRef(f"{self.mint.doc}/"))

    def add(self, subject: URIRef, *pairs: tuple[URIRef, object]) -> None:
        """Add (subject, predicate, object) for each pair whose object is not None."""
        for predicate, obj in pairs:
            if obj is not None:
                self.graph.add((subject, predicate, obj))  # type: ignore[arg-type]

    def provenance(self, subject: URIRef, *passages: Passage) -> None:
        """prov:wasDerivedFrom the source, cdv:passage each passage (described once)."""
        self.add(subject, (PROV.wasDerivedFrom, self.mint.source))
        for passage in passages:
            iri = self.mint.passage(passage)
            self.add(subject, (CDV.passage, iri))
            if (iri, RDF.type, CDV.Passage) not in self.graph:
                selector = BNode()
                self.add(iri, (RDF.type, CDV.Passage), (OA.hasSource, self.mint.source))
                self.add(iri, (OA.hasSelector, selector), (CDV.ligneDebut, integer(passage.first)))
                self.add(iri, (CDV.ligneFin, integer(passage.last)))
                self.add(selector, (RDF.type, OA.FragmentSelector), (DCTERMS.conformsTo, RFC5147))
                self.add(selector, (RDF.value, Literal(f"line={passage.first - 1},{passage.last}")))

    def element(self, subject: URIRef, cls: URIRef, order: int, parent: URIRef, passage: Passage) -> None:
        """What every structural element states: class, order, parent, avenant, provenance."""
        self.add(subject, (RDF.type, cls), (CDV.ordre, integer(order)), (CDV.parent, parent))
        self.add(subject, (CDV.avenant, self.mint.doc))
        self.provenance(subject, passage)

    def organisation(self, iri: URIRef, label: str, passage: Passage) -> None:
        """Describe an organisation the draft points to (its registry name, else the best printed one)
        and the passage that names it."""
        self.provenance(iri, passage)
        known = self.mint.registry.labels.get(str(iri), label)
        current = self.graph.value(iri, SKOS.prefLabel)
        if current is not None and not (str(current).isupper() and not known.isupper()):
            return  # described already, with a name printed in mixed case (headings are often in capitals)
        self.graph.remove((iri, RDFS.label, None))
        self.graph.remove((iri, SKOS.prefLabel, None))
        self.add(iri, (RDF.type, ORG.Organization), (RDFS.label, fr(known)), (SKOS.prefLabel, fr(known)))

    def state_post(self, iri: URIRef, label: str, passage: Passage) -> None:
        """Describe a post of the État the text names without its holder ("Premier Ministre")."""
        state = self.mint.state()
        self.organisation(state, STATE, passage)
        if (iri, RDF.type, ORG.Post) not in self.graph:
            known = self.mint.registry.labels.get(str(iri), label)
            self.add(iri, (RDF.type, ORG.Post), (RDFS.label, fr(known)), (ORG.postIn, state))
        self.provenance(iri, passage)


def build_graph(protocol: Protocol, mint: Minter, source_file: str) -> tuple[Graph, list[Note]]:
    """The draft graph of `protocol`, and notes on facts it could not complete."""
    builder = GraphBuilder(mint, source_file)
    _document(builder, protocol)
    _structure(builder, protocol.axes)
    _references(builder, protocol.references)
    _contributions(builder, protocol.contributions)
    _signatures(builder, protocol.signatures)
    _signing(builder, protocol.signing)
    return builder.graph, builder.notes


def _document(b: GraphBuilder, p: Protocol) -> None:
    """The source document, the avenant, the contract, the period and the neighbourhoods."""
    doc, mint = b.mint.doc, b.mint
    label = p.label or p.title or mint.document
    b.add(mint.source, (RDF.type, CDV.DocumentSource), (CDV.fichier, Literal(b.source_file)))
    b.add(mint.source, (RDFS.label, fr(_source_label(label))), (DCTERMS.title, fr(p.title or label)))
    b.add(mint.source, (DCTERMS["format"], TEXT_PLAIN), (DCTERMS.language, FRENCH), (FOAF.primaryTopic, doc))
    b.add(doc, (RDF.type, CDV.Avenant), (RDFS.label, fr(label)), (DCTERMS.title, fr(p.title or label)))
    if p.label_line and p.label_line != label:
        b.add(doc, (DCTERMS.alternative, fr(p.label_line)))
    b.add(doc, (ELI.type_document, mint.text_type("avenant")), (CDV.modifie, mint.contract))
    b.add(doc, (DCTERMS.language, FRENCH))
    b.add(doc, (CDV.preambule, fr(p.preamble) if p.preamble else None))
    b.add(doc, (CDV.objet, fr(p.purpose) if p.purpose else None))
    passages = [x for x in (p.title_passage, p.preamble_passage, p.purpose_passage) if x]
    b.provenance(doc, *passages)
    if p.period and p.period_passage:
        period = b.mint.part("periode")
        b.add(doc, (DCTERMS.temporal, period))
        b.add(period, (RDF.type, DCTERMS.PeriodOfTime), (RDFS.label, fr(f"{p.period[0]}-{p.period[1]}")))
        b.add(period, (DCAT.startDate, Literal(str(p.period[0]), datatype=XSD.gYear)))
        b.add(period, (DCAT.endDate, Literal(str(p.period[1]), datatype=XSD.gYear)))
        b.provenance(period, p.period_passage)
    contract = mint.contract
    b.add(contract, (RDF.type, CDV.ContratDeVille), (ELI.type_document, mint.text_type("contrat")))
    if p.contract:
        b.add(contract, (RDFS.label, fr(p.contract)), (DCTERMS.title, fr(p.contract)))
    b.provenance(contract, *([p.contract_passage] if p.contract_passage else passages[:1]))
    for qpv in p.qpvs:
        iri = mint.qpv(qpv.code)
        b.add(doc, (CDV.quartier, iri))
        b.add(contract, (CDV.quartier, iri))
        b.add(iri, (RDF.type, CDV.QuartierPrioritaire), (SKOS.notation, Literal(qpv.code)))
        b.add(iri, (RDFS.label, fr(qpv.name or qpv.code)))
        b.provenance(iri, *qpv.passages)


def _source_label(label: str) -> str:
    """ "Texte source de l’avenant au contrat de ville du Quesnoy 2020-2022"."""
    if re.match(r"^Avenant\b", label) and not label.isupper():
        return f"Texte source de l’a{label[1:]}"
    return f"Texte source : {label}"


def measure_key(notation: str | None) -> str | None:
    """The number in a measure's printed number, for its IRI: "n°6" → "6", "3.1" → "3.1"."""
    match = re.search(r"\d+(?:\.\d+)*$", notation or "")
    return match.group(0) if match else None


def numbered_across(axes: Sequence[Part]) -> bool:
    """Whether the measures' printed numbers number them across the document (each once), rather than
    restarting in each objective ("1)", "2)", then "1)" again)."""
    keys = [measure_key(p.notation) for p in walk(axes) if p.kind == Kind.MEASURE]
    return all(keys) and len(set(keys)) == len(keys)


def _structure(b: GraphBuilder, axes: Sequence[Part]) -> None:
    """Axes, thematics, objectives and measures, with their parents and shortcuts."""
    order = {kind: 0 for kind in Kind}
    by_number = numbered_across(axes)
    for axis in axes:
        _part(b, axis, b.mint.doc, {}, order, by_number)


def _part(
    b: GraphBuilder,
    part: Part,
    parent: URIRef,
    ancestors: dict[Kind, URIRef],
    order: dict[Kind, int],
    by_number: bool,
) -> None:
    """One element and, depth first, its children. A measure's IRI is its number where the numbers run
    across the document, else its rank; its printed number stays as printed (skos:notation), an integer
    number across the document is also its cdv:numero."""
    order[part.kind] += 1
    rank = order[part.kind]
    if part.kind == Kind.MEASURE:
        key = (measure_key(part.notation) if by_number else None) or str(rank)
    else:
        key = part.notation if part.kind == Kind.AXIS and part.notation else str(rank)
    iri = b.mint.part(f"{part.kind.value}/{key}")
    cls = {
        Kind.AXIS: CDV.Axe,
        Kind.THEMATIC: CDV.Thematique,
        Kind.OBJECTIVE: CDV.Objectif,
        Kind.MEASURE: CDV.Mesure,
    }
    b.element(iri, cls[part.kind], rank, parent, part.passage)
    shortcuts = {Kind.AXIS: CDV.axe, Kind.THEMATIC: CDV.thematique, Kind.OBJECTIVE: CDV.objectif}
    for kind, ancestor in ancestors.items():
        if part.kind != Kind.OBJECTIVE or kind != Kind.OBJECTIVE:
            b.add(iri, (shortcuts[kind], ancestor))
    if part.kind == Kind.MEASURE:
        printed = part.notation or str(rank)
        b.add(iri, (RDFS.label, fr(f"Mesure {printed}")), (SKOS.notation, Literal(printed)))
        b.add(iri, (CDV.texte, fr(part.text)))
        if by_number and key.isdigit():
            b.add(iri, (CDV.numero, integer(int(key))))
    else:
        b.add(iri, (RDFS.label, fr(part.text)))
    if part.kind == Kind.AXIS:
        b.add(iri, (SKOS.notation, Literal(part.notation or str(rank))))
        pillar = guess_pillar(part.text)
        if pillar:
            b.add(iri, (DCTERMS.subject, b.mint.pillar(pillar)))
        else:
            b.notes.append(Note(part.passage, "no national pillar recognised for this axis", part.text))
    below = {**ancestors, part.kind: iri} if part.kind != Kind.MEASURE else ancestors
    for child in part.children:
        _part(b, child, iri, below, order, by_number)


def _references(b: GraphBuilder, references: Sequence[Reference]) -> None:
    """The entries of the textes de référence and the texts they cite."""
    for rank, ref in enumerate(references, start=1):
        issuer = _issuer(b, ref)
        day = ref.start.isoformat() if ref.start else None
        text = b.mint.text(ref.type_slug, issuer if ref.local_issuer else None, day, ref.title)
        entry = b.mint.part(f"reference/{rank}")
        b.element(entry, CDV.Reference, rank, b.mint.doc, ref.passage)
        b.add(entry, (RDFS.label, fr(ref.entry)), (CDV.texte, fr(ref.entry)), (ELI.cites, text))
        b.add(b.mint.doc, (CDV.texteDeReference, text))
        b.add(
            text, (RDF.type, ELI.LegalResource), (RDFS.label, fr(ref.title)), (DCTERMS.title, fr(ref.title))
        )
        if ref.type_slug:
            b.add(text, (ELI.type_document, b.mint.text_type(ref.type_slug)))
        b.add(text, (ELI.date_document, _date(ref.start)), (CDV.dateFin, _date(ref.end)))
        b.add(text, (ELI.passed_by, issuer))
        b.provenance(text, ref.passage)


def _issuer(b: GraphBuilder, ref: Reference) -> URIRef | None:
    """Who passed a reference text: an organisation, or a post of the État."""
    if not ref.issuer:
        return None
    state_post = bool(STATE_POST.match(ref.issuer)) and not ref.local_issuer
    iri = b.mint.issuer(ref.issuer, state_post)
    if state_post:
        b.state_post(iri, ref.issuer, ref.passage)
    else:
        b.organisation(iri, ref.issuer, ref.passage)
    return iri


def _date(day: date | None) -> Literal | None:
    """An xsd:date literal, or None."""
    return Literal(day.isoformat(), datatype=XSD.date) if day else None


def _contributions(b: GraphBuilder, contributions: Sequence[Contribution]) -> None:
    """Each partner contribution, attributed to its organisation, with its numbered sections."""
    for rank, contribution in enumerate(contributions, start=1):
        organisation = b.mint.organisation(contribution.organisation)
        b.organisation(organisation, contribution.organisation, contribution.heading_passage)
        iri = b.mint.part(f"contribution/{local_name(organisation)}")
        b.element(iri, CDV.Contribution, rank, b.mint.doc, contribution.passage)
        b.add(iri, (RDFS.label, fr(contribution.heading)), (PROV.wasAttributedTo, organisation))
        for order, section in enumerate(contribution.sections, start=1):
            section_iri = URIRef(f"{iri}/section/{section.notation}")
            parent_notation = section.notation.rpartition(".")[0]
            parent = URIRef(f"{iri}/section/{parent_notation}") if parent_notation else iri
            b.element(section_iri, CDV.Section, order, parent, section.passage)
            b.add(section_iri, (RDFS.label, fr(section.title)), (SKOS.notation, Literal(section.notation)))
            b.add(section_iri, (CDV.contribution, iri))


def _signatures(b: GraphBuilder, signatures: Sequence[Signature]) -> None:
    """Each signature with its person, post and organisation."""
    for rank, signature in enumerate(signatures, start=1):
        iri = b.mint.part(f"signature/{rank}")
        person = b.mint.person(signature.given, signature.family)
        post, organisation, parts = b.mint.post(signature.post, signature.organisation)
        b.element(iri, CDV.Signature, rank, b.mint.doc, signature.passage)
        b.add(iri, (RDFS.label, fr(signature.label)), (CDV.signataire, person), (CDV.poste, post))
        b.add(
            person,
            (RDF.type, FOAF.Person),
            (RDFS.label, fr(signature.name)),
            (FOAF.name, Literal(signature.name)),
        )
        b.add(
            person, (FOAF.givenName, Literal(signature.given)), (FOAF.familyName, Literal(signature.family))
        )
        b.add(person, (FOAF.title, Literal(signature.civility) if signature.civility else None))
        b.provenance(person, signature.name_passage)
        b.add(post, (RDF.type, ORG.Post), (RDFS.label, fr(signature.post)), (ORG.heldBy, person))
        b.provenance(post, signature.post_passage)
        if organisation is None:
            b.notes.append(Note(signature.post_passage, "no organisation found in the post", signature.post))
            continue
        b.add(iri, (CDV.organisation, organisation))
        b.add(post, (ORG.postIn, organisation))
        name = STATE if parts.state else parts.organisation or signature.post
        b.organisation(organisation, name, signature.post_passage)


def _signing(b: GraphBuilder, signing: Signing | None) -> None:
    """Where and when the avenant was signed, as printed, from the line that says so."""
    if signing is None:
        return
    b.add(b.mint.doc, (CDV.lieuDeSignature, fr(signing.place)), (CDV.dateDeSignature, _date(signing.day)))
    b.provenance(b.mint.doc, signing.passage)
