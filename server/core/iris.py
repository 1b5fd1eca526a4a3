"""Pure: public IRIs ↔ URLs of this server, both ways.

The data keeps its public IRIs (`https://w3id.org/cdv/…`): they are its identity, in every RDF body. Only
the links a page or a header points to are mapped to where this server answers. The resource a request
names is found from its *path* alone, never from the host it arrived on, so a reverse proxy, a test
client and `cdv serve` on any port all agree on which IRI `/id/…` is.

Links are root-relative (`/id/…`, prefixed by the script root when the app is mounted under a path) unless
`Settings.public_url` is set, then absolute on that URL: either way they work behind a proxy that does not
rewrite paths, with or without `X-Forwarded-*` handling.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit


@dataclass(frozen=True)
class IriMap:
    """Where the public base `base_iri` is served: `root`, a path ("/", "/cdv/") or an absolute URL."""

    base_iri: str
    root: str

    def is_local(self, iri: str) -> bool:
        """Whether this server answers for `iri` (it lies under the public base)."""
        return iri.startswith(self.base_iri)

    def url(self, iri: str) -> str:
        """The URL to link to for `iri`: on this server when it lies under the base, else `iri` itself."""
        if self.is_local(iri):
            return self.root + iri[len(self.base_iri) :]
        return iri

    def href(self, iri: str) -> str | None:
        """`url(iri)` when it is safe to link to: ours, or an http(s) address; None for any other scheme.

        Every IRI is valid RDF, `javascript:alert(1)` included: only web addresses may become links.
        """
        if self.is_local(iri) or iri.startswith(("http://", "https://")):
            return self.url(iri)
        return None

    def iri(self, path: str) -> str:
        """The public IRI of a path relative to the root (e.g. "id/le-quesnoy/…" or "ontology")."""
        return self.base_iri + path.lstrip("/")

    def editor(self, query: str) -> str:
        """A link into this server's SPARQL editor, holding `query` (a browser's GET on /sparql)."""
        return self.root + "sparql?" + urlencode({"query": query})


def site_root(public_url: str | None, url_root: str, *, absolute: bool = False) -> str:
    """Where the public base is served for this request, always ending with "/".

    `public_url` (the setting) wins. Otherwise `url_root` is the request's own root (Flask's
    `request.url_root`, which honours `X-Forwarded-*` only when ProxyFix is configured): its path alone
    (root-relative links) unless `absolute` is asked for, e.g. for a sitemap or a `Location` header.
    """
    root = public_url or (url_root if absolute else urlsplit(url_root).path or "/")
    return root if root.endswith("/") else root + "/"


def iri_map(base_iri: str, public_url: str | None, url_root: str, *, absolute: bool = False) -> IriMap:
    """The map for one request: `iri_map(settings.base_iri, settings.public_url, request.url_root)`."""
    return IriMap(base_iri, site_root(public_url, url_root, absolute=absolute))
