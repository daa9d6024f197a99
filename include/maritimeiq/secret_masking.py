"""Secret masking Airflow loads by name (``[logging] secret_mask_adapter``), set by the
local stack and docker-compose.yaml alike."""

from __future__ import annotations

from urllib.parse import quote, quote_plus


def url_encoded_forms(secret: str) -> list[str]:
    """The forms a secret takes inside URLs, masked in logs along with the secret itself.
    ``Connection.get_uri()`` percent-encodes the password (``quote(..., safe="")``), which
    the plain secret does not match."""
    return [quote(secret, safe=""), quote_plus(secret, safe="")]
