"""Text tools shared by every layer above the models: time parsing, region tagging by
gazetteer, and the report type that counts accepted and skipped input.

Layer: models ← text (this package and the tokeniser, ``nlp/tokenize.py``) ← store ←
ingest / crawler / nlp ← alerting ← api / tingfeng. Nothing here imports from a layer
above (``tests/test_layers.py`` checks it).
"""
