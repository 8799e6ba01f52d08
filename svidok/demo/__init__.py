"""`svidok demo`: generated material (`material.py`, `assets/`) run through the whole flow (`build.py`)."""
