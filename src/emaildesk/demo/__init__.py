"""The bundled demo site (`site.toml`), applied by `emaildesk init --demo`.

Why it ships inside the package: a fresh install should answer real API calls within a minute,
with logins an evaluator can copy from the README; the file doubles as the worked example of the
site-file format (docs/site-file.md).
"""
