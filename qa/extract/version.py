"""Which extraction an index was built with: light enough for the question path to import."""

# Bump by hand whenever what extraction keeps, or the metadata it finds, changes: indexes record it and
# rebuild when it differs. tests/extract/test_extraction_golden.py fails when the output over seeds/ and
# tests/golden/pages/ changes while this stays the same.
EXTRACTOR_VERSION = 1
# What manifests and build keys record. Version 1 keeps the name the same extractor had when indexes
# recorded a hash of this file's code, so indexes built before versions were explicit stay current.
EXTRACTOR_ID = "1-98a32aaffdb9" if EXTRACTOR_VERSION == 1 else f"v{EXTRACTOR_VERSION}"
