"""Pure: how the pages name things — a property read backwards, a resource's printed heading, its outline."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from server.core.describe import Description, inverse_label_property, term_infos
from server.core.iris import iri_map
from server.core.presentation import Labels
from server.core.resource_view import heading, outline

CDV = "https://w3id.org/cdv/ontology#"
BASE = "https://w3id.org/cdv/"
ORG = "http://www.w3.org/ns/org#"
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
NOTATION = ox.NamedNode("http://www.w3.org/2004/02/skos/core#notation")


def labels(*triples: ox.Triple) -> Labels:
    infos = term_infos(triples, inverse_label_property(CDV))
    return Labels(iri_map(BASE, None, "http://127.0.0.1/"), {}, infos, order_property=CDV + "ordre").learn(
        triples
    )


def t(s: str, p: ox.NamedNode | str, o: ox.NamedNode | ox.Literal) -> ox.Triple:
    return ox.Triple(ox.NamedNode(s), p if isinstance(p, ox.NamedNode) else ox.NamedNode(p), o)


MENTIONNE = [
    t(CDV + "mentionne", RDFS_LABEL, ox.Literal("mentionne", language="fr")),
    t(CDV + "mentionne", CDV + "libelleInverse", ox.Literal("mentionné par", language="fr")),
    t(CDV + "mentionne", CDV + "libelleInverse", ox.Literal("mentioned by", language="en")),
]


@pytest.mark.parametrize(
    ("known", "prop", "reading"),
    [
        (MENTIONNE, CDV + "mentionne", "mentionné par"),  # the ontology's own, in French
        ([], ORG + "subOrganizationOf", "a pour sous-organisation"),  # a standard term, from the table
        ([], ORG + "hasUnit", "unité de"),
        (
            [t(CDV + "autre", RDFS_LABEL, ox.Literal("autre lien", language="fr"))],
            CDV + "autre",
            "reliés par « autre lien » à cette ressource",  # neither: a phrase on its label, never "est « p » de"
        ),
    ],
    ids=["ontology", "org-sub-organisation", "org-unit", "fallback"],
)
def test_a_property_reads_backwards_in_french(known: list[ox.Triple], prop: str, reading: str) -> None:
    assert labels(*known).inverse(prop) == reading


@pytest.mark.parametrize(
    ("kind", "notation", "label", "expected"),
    [
        ("Axe", "3", "Emploi et développement économique", "Axe 3 : Emploi et développement économique"),
        ("Axe", None, "Sans numéro", "Sans numéro"),
        ("Axe", "1", "Axe 1 : déjà numéroté", "Axe 1 : déjà numéroté"),
        ("Thematique", "2", "Réussite éducative", "Réussite éducative"),
    ],
)
def test_the_heading_is_the_printed_one(kind: str, notation: str | None, label: str, expected: str) -> None:
    iri = BASE + "id/x/1"
    known = [t(iri, RDF_TYPE, ox.NamedNode(CDV + kind))]
    if notation:
        known.append(t(iri, NOTATION, ox.Literal(notation)))
    assert heading(labels(*known), iri, label, CDV) == expected


def test_the_outline_follows_parents_in_reading_order_with_what_each_names() -> None:
    axis = BASE + "id/d/axe/1"
    objective, m1, m2, partner = (BASE + f"id/d/{n}" for n in ("objectif/1", "mesure/1", "mesure/2", "org"))
    typed = [
        t(objective, RDF_TYPE, ox.NamedNode(CDV + "Objectif")),
        t(m1, RDF_TYPE, ox.NamedNode(CDV + "Mesure")),
        t(m2, RDF_TYPE, ox.NamedNode(CDV + "Mesure")),
        t(
            m1,
            CDV + "ordre",
            ox.Literal("2", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
        ),
        t(
            m2,
            CDV + "ordre",
            ox.Literal("1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
        ),
        t(partner, RDFS_LABEL, ox.Literal("Pôle Emploi", language="fr")),
    ]
    incoming = tuple(t(s, CDV + "axe", ox.NamedNode(axis)) for s in (objective, m1, m2))
    desc = Description(
        ox.NamedNode(axis),
        (),
        incoming + tuple(typed),
        3,
        1,
        100,
        texts={m1: "Deuxième.", m2: "Première."},
        parents={objective: axis, m1: objective, m2: objective},
        mentions={m1: (partner,)},
    )
    tree = outline(labels(*typed), desc, CDV)
    assert [item.kind for item in tree] == ["Objectif"]
    measures = tree[0].children
    assert [(m.ref.iri, m.ref.summary) for m in measures] == [(m2, "Première."), (m1, "Deuxième.")]
    assert [r.label for r in measures[1].mentions] == ["Pôle Emploi"] and measures[0].mentions == ()
