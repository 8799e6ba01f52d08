"""The ground floor every stage stands on: the workspace (database + content-addressed store),
the archive of items and media, the audit log, settings, clocks, media sniffing and the
Russian/Ukrainian text normalisation. Imports nothing above it."""
