"""Cases: what people decide and hand over.

    sightings ──decisions (two blind reviewers)──▶ confirmed ──cases──▶ evidence package

Users and roles, the review queue, decisions, cases and the evidence export. The review UI
(`review_ui/`) and the CLI call these; nothing here knows about HTTP or the terminal.
"""
