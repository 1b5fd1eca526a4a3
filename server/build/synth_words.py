"""The fictitious names and phrases synthetic documents are made of: no real person, body or text.

Shared resources (partners, départements, régions, national texts, schemes) come from fixed pools, so every
document that names one describes it with the same types and labels.
"""

from __future__ import annotations

PUBLIC = ("org:Organization", "cpov:PublicOrganisation")
FORMAL = ("org:Organization", "org:FormalOrganization")

# Partner organisations shared by many documents: slug, label, types, the role of who signs for it.
PARTNERS = (
    (
        "caisse-fictive-d-allocations-familiales",
        "Caisse fictive d’allocations familiales",
        PUBLIC,
        "Directeur",
    ),
    ("agence-imaginaire-de-sante", "Agence imaginaire de santé", PUBLIC, "Directrice générale"),
    ("office-fictif-pour-l-emploi", "Office fictif pour l’emploi", PUBLIC, "Directeur régional"),
    ("bailleur-social-exemplaire", "Bailleur social Exemplaire", FORMAL, "Directeur général"),
    ("habitat-fictif-solidaire", "Habitat fictif solidaire", FORMAL, "Présidente"),
    ("association-fictive-pour-l-insertion", "Association fictive pour l’insertion", FORMAL, "Président"),
    ("chambre-imaginaire-des-metiers", "Chambre imaginaire des métiers", PUBLIC, "Président"),
    (
        "caisse-fictive-des-depots-territoriaux",
        "Caisse fictive des dépôts territoriaux",
        PUBLIC,
        "Directrice",
    ),
    ("academie-fictive", "Académie fictive", PUBLIC, "Recteur"),
    ("mission-locale-imaginaire", "Mission locale imaginaire", FORMAL, "Directrice"),
    (
        "federation-fictive-des-centres-sociaux",
        "Fédération fictive des centres sociaux",
        FORMAL,
        "Présidente",
    ),
    ("agence-fictive-de-renovation-urbaine", "Agence fictive de rénovation urbaine", PUBLIC, "Délégué"),
)

# Fictitious départements (codes INSEE does not use for a département) and their fictitious régions.
DEPARTEMENTS = (
    ("20", "Département fictif de l’Ouest", "98"),
    ("96", "Département fictif du Centre", "98"),
    ("98", "Département fictif de l’Est", "99"),
    ("99", "Département fictif du Sud", "99"),
)
REGIONS = {"98": "Région fictive du Nord", "99": "Région fictive du Midi"}

# National texts: IRI slug, type of text, date, title.
TEXTS = (
    ("loi-2014-03-03-fictive", "loi", "2014-03-03", "Loi fictive de programmation pour les quartiers"),
    (
        "circulaire-2019-02-05-fictive",
        "circulaire",
        "2019-02-05",
        "Circulaire fictive relative aux quartiers",
    ),
    ("pacte-2018-06-20-fictif", "pacte", "2018-06-20", "Pacte fictif pour les territoires"),
    ("instruction-2020-01-15-fictive", "instruction", "2020-01-15", "Instruction fictive sur les protocoles"),
    ("plan-2019-09-10-fictif", "plan", "2019-09-10", "Plan fictif pour l’emploi dans les quartiers"),
    (
        "strategie-2018-09-13-fictive",
        "strategie",
        "2018-09-13",
        "Stratégie fictive de lutte contre la pauvreté",
    ),
)

SCHEMES = (
    ("programme-fictif-de-reussite-educative", "programme fictif de réussite éducative"),
    ("cite-educative-imaginaire", "cité éducative imaginaire"),
    ("atelier-sante-fictif", "atelier santé fictif"),
    ("contrat-local-de-sante-fictif", "contrat local de santé fictif"),
    ("adultes-relais-fictifs", "adultes-relais fictifs"),
    ("chantiers-d-insertion-imaginaires", "chantiers d’insertion imaginaires"),
    ("fonds-fictif-de-participation-des-habitants", "fonds fictif de participation des habitants"),
    ("points-d-accueil-fictifs-pour-l-emploi", "points d’accueil fictifs pour l’emploi"),
    ("quartiers-d-ete-imaginaires", "quartiers d’été imaginaires"),
    ("maison-fictive-des-services", "maison fictive des services"),
)

PILLARS = (
    ("cohesion-sociale", "Cohésion sociale"),
    ("cadre-de-vie-et-renouvellement-urbain", "Cadre de vie et renouvellement urbain"),
    ("emploi-et-developpement-economique", "Emploi et développement économique"),
    ("cohesion-sociale", "Citoyenneté et participation des habitants"),
)
THEMES = {
    "Cohésion sociale": ("Éducation et réussite éducative", "Santé et accès aux soins", "Parentalité"),
    "Cadre de vie et renouvellement urbain": ("Habitat et logement", "Mobilité", "Tranquillité publique"),
    "Emploi et développement économique": ("Insertion professionnelle", "Développement économique"),
    "Citoyenneté et participation des habitants": ("Participation citoyenne", "Accès aux droits"),
}

GOALS = (
    "Renforcer l’accompagnement",
    "Développer l’accès aux services",
    "Favoriser la participation",
    "Améliorer l’information",
    "Soutenir les initiatives",
    "Prévenir le décrochage",
    "Faciliter le retour à l’emploi",
    "Lutter contre l’isolement",
)
PUBLICS = (
    "des jeunes du quartier",
    "des familles",
    "des habitants âgés",
    "des habitants",
    "des parents isolés",
    "des demandeurs d’emploi",
    "des enfants de moins de six ans",
)
ACTIONS = (
    "Organiser des permanences",
    "Mettre en place des ateliers",
    "Créer un lieu d’accueil",
    "Financer des actions collectives",
    "Former des médiateurs",
    "Proposer des parcours individualisés",
    "Animer un réseau de partenaires",
)

# Syllables of invented place and family names, and ordinary given names with their civility.
SYLLABLES = (
    "mor",
    "val",
    "bru",
    "ne",
    "tal",
    "qui",
    "lo",
    "ran",
    "de",
    "vi",
    "sor",
    "ba",
    "lec",
    "mi",
    "fo",
    "ter",
)
FAMILY_ROOTS = ("FICTAR", "IMAGIN", "SYNTHEL", "EXEMPL", "MODEL", "INVENT", "SIMUL", "FACTIC")
GIVEN = (
    ("Claire", "Madame"),
    ("Jean", "Monsieur"),
    ("Sophie", "Madame"),
    ("Marc", "Monsieur"),
    ("Nadia", "Madame"),
    ("Louis", "Monsieur"),
    ("Amélie", "Madame"),
    ("Paul", "Monsieur"),
)


def syllables(number: int, count: int) -> str:
    """`count` syllables spelling `number` in base 16: distinct numbers, distinct words."""
    parts = []
    for _ in range(count):
        number, digit = divmod(number, len(SYLLABLES))
        parts.append(SYLLABLES[digit])
    return "".join(parts)
