"""HTML to PDF, shared by every printed document (the casebook, the DSMB report): WeasyPrint,
with a fetcher that refuses every URL but the document's own `data:` URIs (its embedded images),
so that a document depends on what the page holds alone and no request leaves the server while
it is made."""


def html_to_pdf(html: str, *, document: str = "document") -> bytes:
    """The PDF of `html` (styles in the page; images as data URIs)."""
    # Imported here: WeasyPrint loads the system's Pango when imported, and every other page
    # works without it (`make run` on a machine that lacks it).
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=nothing_fetched(document)).write_pdf()


def nothing_fetched(document: str = "document"):
    """A WeasyPrint URL fetcher that fetches nothing: a `data:` URI is read from itself, any
    other URL is refused."""
    from weasyprint.urls import URLFetcher

    class NothingFetched(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            raise ValueError(f"The {document} fetches nothing: {url}")

    return NothingFetched(allowed_protocols=("data",))
