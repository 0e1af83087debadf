"""The API's documentation pages (drf-spectacular, served offline from the sidecar) under the
Content-Security-Policy. Both templates put the request's nonce on their inline start-up
code (templates/drf_spectacular/). Redoc needs two more allowances on its own page only:

- the two <style> elements its bundle adds while loading, before it knows the nonce (an
  empty one and perfect-scrollbar's CSS), allowed by their hashes: a new sidecar release
  that changes them shows up as a CSP violation in tests/e2e/test_csp.py;
- its search index runs in a web worker made from a `blob:` URL.

Redoc's "API docs by Redocly" logo is an image on its CDN: it stays blocked (the platform
fetches nothing from elsewhere), and the link keeps its text.
"""

from csp import constants
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

REDOC_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # the empty <style>
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",  # perfect-scrollbar
]

swagger_ui = SpectacularSwaggerView.as_view(url_name="schema")
redoc = csp_update({"style-src": REDOC_STYLE_HASHES, "worker-src": [constants.SELF, "blob:"]})(
    SpectacularRedocView.as_view(url_name="schema")
)
