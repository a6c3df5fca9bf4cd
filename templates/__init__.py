"""The Jinja2 templates of costmodel's HTML reports, shipped inside the package as ``costmodel.templates``."""
