"""The web layer: live push to open pages (live/) and the desk's pages, grouped by capability."""
