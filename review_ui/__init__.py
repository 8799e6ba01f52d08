"""The local review UI: reviewers decide on sightings; case officers build evidence."""
