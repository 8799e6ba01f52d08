"""Matching: consented references and case records against faces, transcripts and posts."""
