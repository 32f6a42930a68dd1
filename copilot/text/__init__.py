"""The text vocabulary: how Odoo references, IBANs, e-mail addresses, dates, money and invisible characters are
written, one definition each.

The lowest layer: it imports nothing from the rest of ``copilot`` (an import-linter contract in
``pyproject.toml`` checks it), so guardrails, skills, channels and tools all read text the same way.

* ``references``: Odoo document names (``P00012``, ``S00024``, ``HT00011``, ``WH/IN/00005``, ``BILL/2026/12/0001``)
  and the ``[CODE]`` of a product's display name.
* ``email_address``: e-mail addresses in running text.
* ``iban``: IBANs, by shape and by checksum.
* ``values``: dates, money and units of measure as people write them.
* ``invisible``: zero-width, bidi and Unicode tag characters.

Every pattern here runs in linear time on any input (no unbounded repeat nests one that can backtrack).
"""
