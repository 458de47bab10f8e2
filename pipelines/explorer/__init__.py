"""`costcurve serve`: a local web app over the published snapshot (see app.py for the pages)."""
