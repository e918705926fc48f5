"""Reference signer and verifier of the edge -> engine context (SPEC 3.5),
written from shared/parley_context.h alone, so that tests can check what
nginx really sends and can forge contexts for the engine.

    v1.<tenant>.<kind>:<principal>.<session>.<request>.<unix-ms>.<sig>
"""

import base64
import hashlib
import hmac
import re

VERSION = "v1"
MAX_LEN = 384
MAX_AGE_MS = 30000
MAX_SKEW_MS = 5000
SECRET_MIN = 32
NIL_TENANT = "00000000-0000-0000-0000-000000000000"
NO_SESSION = "-"
KINDS = ("key", "widget", "admin", "edge")

_UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_FIELD = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MS = re.compile(r"[0-9]{1,19}")
_SIG = re.compile(r"[A-Za-z0-9_-]{43}")


class InvalidContext(ValueError):
    """`reason` is one of: malformed, signature, expired, future."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _secret_bytes(secret):
    raw = secret.encode() if isinstance(secret, str) else bytes(secret)
    raw = raw.rstrip(b" \t\r\n\v\f")
    if len(raw) < SECRET_MIN:
        raise ValueError(f"edge secret shorter than {SECRET_MIN} bytes")
    return raw


def _mac(secret, payload):
    digest = hmac.new(_secret_bytes(secret), payload.encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_context(secret, tenant, kind, principal, session, request, unix_ms):
    """The header value the edge sends for these fields."""
    payload = (f"{VERSION}.{tenant}.{kind}:{principal}.{session}.{request}."
               f"{unix_ms}")
    return f"{payload}.{_mac(secret, payload)}"


def verify_context(secret, header, now_ms):
    """The fields of a valid header as a dict; raises InvalidContext."""
    if not header or len(header) > MAX_LEN or not header.isascii():
        raise InvalidContext("malformed")
    parts = header.split(".")
    if len(parts) != 7 or parts[0] != VERSION:
        raise InvalidContext("malformed")
    _, tenant, who, session, request, ms, sig = parts
    kind, colon, principal = who.partition(":")
    if (not _UUID.fullmatch(tenant) or not colon or kind not in KINDS
            or not _FIELD.fullmatch(principal)
            or not (session == NO_SESSION or _FIELD.fullmatch(session))
            or not _FIELD.fullmatch(request) or not _MS.fullmatch(ms)
            or not _SIG.fullmatch(sig)):
        raise InvalidContext("malformed")
    payload = header[:header.rindex(".")]
    if not hmac.compare_digest(sig, _mac(secret, payload)):
        raise InvalidContext("signature")
    signed = int(ms)
    if now_ms - signed > MAX_AGE_MS:
        raise InvalidContext("expired")
    if signed - now_ms > MAX_SKEW_MS:
        raise InvalidContext("future")
    return {"tenant": tenant, "kind": kind, "principal": principal,
            "session": session, "request": request, "unix_ms": signed}
