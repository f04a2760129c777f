"""The daily digest: select the day's articles, group them into stories, rank, render and publish."""

from pipeline.digest.build import build_digest
from pipeline.digest.publish import publish_digest
from pipeline.digest.render import render_atom, render_html, render_json, render_markdown

__all__ = ["build_digest", "publish_digest", "render_atom", "render_html", "render_json", "render_markdown"]
