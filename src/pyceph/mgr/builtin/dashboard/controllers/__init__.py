"""The dashboard's API controllers: each module exposes ``ROUTES`` (see `..framework`).

The app imports every module here and registers their routes; nothing lists them.
"""
