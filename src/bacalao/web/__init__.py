"""The dashboard every node serves at `/`: plain HTML, CSS and JavaScript.

    static/      index.html, app.css and the page's ES modules (no build
                 step, no third-party code), shipped as package data
    files.py     `WebUi`: which request gets which file, with its content
                 type, ETag and caching headers

The page is public (it holds no data); everything it shows comes from the
node's v1 API, called with the bearer token the page asks for when the
API wants one. Turn it off with `bacalao serve --no-web-ui` (NodeConfig
`web_ui: false`).
"""

from .files import WebUi

__all__ = ["WebUi"]
