"""Pure rules for names: slugs, persons, posts and the organisations they belong to, issuers of texts.

These are the general conventions of French public bodies, written once so every territory gets the same
IRIs for the same kind of name: a mayor's organisation is the commune, prefects and prosecutors hold posts
of the État, the "Conseil Général" is the "Conseil Départemental" renamed in 2015.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CIVILITY = re.compile(
    r"^(?P<civility>Monsieur|Madame|Mademoiselle|M\.|Mme|Mlle)\s+(?:(?:le|la)\s+|l['’]\s*)?", re.IGNORECASE
)
# A signature heading without civility: "Le Préfet de la Brenne", "La Présidente de …", "Pour l’État, le Préfet".
ARTICLE_HEADING = re.compile(r"^(?:pour\s+[^,]+,\s*)?(?:le|la|l['’])\s*(?=[A-ZÀ-ÖØ-Þ])", re.IGNORECASE)
_UPPER = "A-ZÀ-ÖØ-ÞŒ"
_LOWER = "a-zà-öø-ÿœ"
GIVEN = rf"[{_UPPER}][{_LOWER}]+(?:[-\s][{_UPPER}][{_LOWER}]+)*"
FAMILY_WORD = rf"(?:[dD]['’]|[{_UPPER}]['’])?[{_UPPER}][{_UPPER}'’-]+"
FAMILY = rf"(?:(?:de|De|DE|du|Du|DU|le|Le|LE|la|La|LA|van|Van|VAN)\s+)?{FAMILY_WORD}(?:\s+{FAMILY_WORD})*"
PERSON = re.compile(rf"^(?P<given>{GIVEN})\s+(?P<family>{FAMILY})$")
FULL_CIVILITY = {"m.": "Monsieur", "mme": "Madame", "mlle": "Mademoiselle"}

# A procureur de la République heads the parquet of a tribunal judiciaire (code de procédure pénale, art. 39)
# and signs for it: "Procureure de la République d'Avesnes-sur-Helpe" → the parquet of the tribunal judiciaire
# d'Avesnes-sur-Helpe. The tribunal may be printed ("… près le tribunal judiciaire de X", or "de grande
# instance", its name until 2020).
PROSECUTOR = re.compile(
    r"^(?P<office>procureure?\s+de\s+la\s+r[ée]publique)\s+"
    r"(?:pr[èe]s\s+(?:le\s+)?tribunal\s+(?:judiciaire|de\s+grande\s+instance)\s+)?"
    r"(?P<seat>(?:de\s+la|de\s+l['’]|du|des|de|d['’])\s*[A-ZÀ-ÖØ-ÞŒ].*)$",
    re.IGNORECASE,
)
# Posts of the État: the text names the office, the organisation is the State.
STATE_POST = re.compile(
    r"^(?:sous-)?pr[ée]f[eè]t|^procureure?\b|^premi[eè]re?\s+ministre|^ministre|^secr[ée]taire\s+d['’][ée]tat"
    r"|^pr[ée]sident\s+de\s+la\s+r[ée]publique|^d[ée]l[ée]gu[ée]e?\s+du\s+pr[ée]fet",
    re.IGNORECASE,
)
MAYOR = re.compile(r"^maire\s+(?P<rest>(?:de\s+la|de\s+l['’]|du|des|de|d['’])\s*.+)$", re.IGNORECASE)
# "X de/du/de la Y": the organisation Y starts with a capital after the preposition.
OF = re.compile(r"\s(?:de\s+la|de\s+l['’]|du|des|de|d['’])\s*(?=[A-ZÀ-ÖØ-ÞŒ])")
# Governing boards are part of the post, not the organisation ("Présidente du Conseil d'Administration de …").
BOARD = re.compile(
    r"^(?:Conseil\s+d['’]Administration|Conseil\s+de\s+Surveillance|Directoire|Bureau)\b", re.I
)
LOCAL_BODY = re.compile(
    r"^(?:conseil\s+(?:r[ée]gional|d[ée]partemental|g[ée]n[ée]ral|municipal|communautaire|m[ée]tropolitain)"
    r"|r[ée]gion|d[ée]partement|commune|ville|mairie|communaut[ée]\s+(?:de\s+communes|d['’]agglom[ée]ration|urbaine)"
    r"|m[ée]tropole|[ée]tablissement\s+public\s+territorial)\b",
    re.IGNORECASE,
)
RENAMED = ((re.compile(r"\bConseil\s+G[ée]n[ée]ral\b", re.IGNORECASE), "Conseil Départemental"),)
ACRONYMS = (
    (re.compile(r"^Caisse\s+d['’]Allocations\s+Familiales\b", re.IGNORECASE), "CAF"),
    (re.compile(r"^Agence\s+R[ée]gionale\s+de\s+Sant[ée]\b", re.IGNORECASE), "ARS"),
    (re.compile(r"^Caisse\s+Primaire\s+d['’]Assurance\s+Maladie\b", re.IGNORECASE), "CPAM"),
)


def slugify(text: str) -> str:
    """Lower-case ASCII, accents stripped, words joined by "-" ("Cœur d’étoile" → "coeur-d-etoile")."""
    for ligature, letters in (("œ", "oe"), ("Œ", "OE"), ("æ", "ae"), ("Æ", "AE"), ("ß", "ss")):
        text = text.replace(ligature, letters)
    decomposed = unicodedata.normalize("NFKD", re.sub(r"[\W_]+", " ", text))
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c)).encode("ascii", "ignore")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.decode().lower()).strip("-")


def fold(text: str) -> str:
    """A key for comparing names: case, accents, apostrophes and spacing ignored."""
    return slugify(text.replace("’", "'"))


@dataclass(frozen=True)
class Person:
    """A printed name split as the model wants it."""

    name: str
    given: str
    family: str


def parse_person(text: str) -> Person | None:
    """ "Jean-René LECERF" → given "Jean-René", family "LECERF"; None unless given names then a CAPITAL family name."""
    match = PERSON.match(text.strip())
    if not match:
        return None
    return Person(text.strip(), match.group("given"), match.group("family"))


def is_signature_heading(text: str) -> bool:
    """Whether a line opens a signatory's heading: "Madame le Maire du Quesnoy", "Le Préfet de la Brenne"."""
    return bool(CIVILITY.match(text) or ARTICLE_HEADING.match(text))


def split_civility(heading: str) -> tuple[str | None, str]:
    """ "Madame le Maire du Quesnoy" → ("Madame", "Maire du Quesnoy"); "Le Préfet de X" → (None, "Préfet de X")."""
    match = CIVILITY.match(heading)
    if not match:
        article = ARTICLE_HEADING.match(heading)
        return None, heading[article.end() :] if article else heading
    civility = match.group("civility")
    return FULL_CIVILITY.get(civility.casefold(), civility.capitalize()), heading[match.end() :]


def canonical_organisation(name: str) -> str:
    """The current name of a body as printed: "Conseil Général du Nord" → "Conseil Départemental du Nord"."""
    for pattern, replacement in RENAMED:
        name = pattern.sub(replacement, name)
    return " ".join(name.split())


def organisation_slug(name: str) -> str:
    """The slug of an organisation's name, national networks under their usual acronym ("caf-du-nord")."""
    name = canonical_organisation(name)
    for pattern, acronym in ACRONYMS:
        name = pattern.sub(acronym, name)
    return slugify(name)


@dataclass(frozen=True)
class PostParts:
    """A post as printed, split into the office and the organisation it is held in."""

    office: str  # what the post slug is made of
    organisation: str | None  # None: a post of the État
    state: bool = False


def split_post(post: str) -> PostParts:
    """ "Président du Conseil Départemental du Nord" → office "Président", organisation "Conseil Départemental du Nord"."""
    post = " ".join(post.split())
    if prosecutor := PROSECUTOR.match(post):
        return PostParts(
            prosecutor.group("office"), f"Parquet du tribunal judiciaire {prosecutor.group('seat')}"
        )
    if STATE_POST.match(post):
        return PostParts(post, None, state=True)
    if mayor := MAYOR.match(post):
        return PostParts("Maire", f"Commune {mayor.group('rest')}")
    skip_to = 0
    for match in OF.finditer(post):
        if match.start() < skip_to:
            continue
        tail = post[match.end() :]
        if board := BOARD.match(tail):
            skip_to = match.end() + board.end()
            continue
        return PostParts(post[: match.start()], tail)
    return PostParts(post, None)


def is_local_body(issuer: str) -> bool:
    """Whether a text's issuer is a local authority or its assembly (its texts' IRIs name it)."""
    return bool(LOCAL_BODY.match(issuer.strip()))
