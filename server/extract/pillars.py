"""Pure: the national pillar an axis falls under, guessed from the words of its printed name.

The three pillars (id/concept/pilier/…) are the national frame every contrat de ville follows; territories
name and number their axes their own way ("Axe 2 : Logement et cadre de vie", "Pilier 2 — Habitat",
"Enjeu 4 : Santé"). The guess is a draft for review: an axis whose words point nowhere, or to two pillars
equally, gets no pillar and a note in the report.
"""

from __future__ import annotations

import re

from server.extract.names import fold

PILLAR_WORDS: dict[str, tuple[str, ...]] = {
    "cohesion-sociale": (
        "cohesion",
        "social",
        "sociale",
        "education",
        "educative",
        "reussite",
        "jeunesse",
        "sante",
        "culture",
        "sport",
        "citoyennete",
        "securite",
        "delinquance",
        "tranquillite",
        "parentalite",
        "droits",
        "solidarite",
        "solidarites",
        "discriminations",
        "vivre-ensemble",
    ),
    "cadre-de-vie-et-renouvellement-urbain": (
        "cadre-de-vie",
        "logement",
        "habitat",
        "urbain",
        "urbaine",
        "renouvellement",
        "espaces-publics",
        "mobilite",
        "transports",
        "environnement",
    ),
    "emploi-et-developpement-economique": (
        "emploi",
        "economique",
        "economie",
        "insertion",
        "formation",
        "entreprises",
        "entreprise",
        "professionnelle",
        "commerce",
    ),
}


def guess_pillar(label: str) -> str | None:
    """The slug of the pillar whose words the label uses most; None when none or a tie."""
    key = f"-{fold(label)}-"
    scores = {
        pillar: sum(len(re.findall(rf"-{re.escape(word)}-", key)) for word in words)
        for pillar, words in PILLAR_WORDS.items()
    }
    best = max(scores.values())
    winners = [pillar for pillar, score in scores.items() if score == best]
    return winners[0] if best > 0 and len(winners) == 1 else None
