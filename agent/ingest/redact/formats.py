"""Secrets known by their shape: providers' key and token formats, private key blocks,
passwords inside URLs and HTTP Authorization headers.

Each entry is (kind, pattern); where a pattern has a group named "secret", only that group is
replaced (the scheme and host of a URL stay, so do the header's name and scheme).
"""

from __future__ import annotations

import base64
import binascii
import re

_KEY_NAME = r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?"

FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # PEM, OpenSSH and PGP private keys, to their END line (or the end of the text, when a
    # screen or a paste cut it off). OCR may drop a dash or two.
    (
        "private key",
        re.compile(
            rf"-{{2,}}\s*BEGIN {_KEY_NAME}\s*-{{2,}}.*?(?:-{{2,}}\s*END {_KEY_NAME}\s*-{{2,}}|\Z)",
            re.DOTALL,
        ),
    ),
    ("aws key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b")),
    ("github token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})")),
    (
        "gitlab token",
        re.compile(
            r"\b(?:gl(?:pat|dt|rt|ptt|ft|imt|oas|cbt|soat|ffct)-[0-9A-Za-z_\-]{20,}"
            r"|glagent-[0-9A-Za-z_\-]{50,}|GR1348941[0-9A-Za-z_\-]{20,})"
        ),
    ),
    ("anthropic key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}")),
    ("openai key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}")),
    ("slack token", re.compile(r"\bxox[abposre]-[A-Za-z0-9\-]{10,}|\bxapp-\d-[A-Za-z0-9\-]{10,}")),
    (
        "webhook",
        re.compile(
            r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_\-]{20,}"
            r"|https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w\-]{30,}"
        ),
    ),
    ("google key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}")),
    ("google oauth", re.compile(r"\bGOCSPX-[0-9A-Za-z_\-]{20,}|\bya29\.[0-9A-Za-z_\-]{20,}")),
    (
        "stripe key",
        re.compile(r"\b(?:[rs]k_(?:live|test)_[0-9A-Za-z]{16,}|whsec_[0-9A-Za-z]{24,})"),
    ),
    ("mailgun key", re.compile(r"\bkey-(?=[a-z]*\d)[0-9a-z]{32}\b")),
    ("sendgrid key", re.compile(r"\bSG\.[0-9A-Za-z_\-]{16,32}\.[0-9A-Za-z_\-]{30,64}")),
    ("twilio key", re.compile(r"\bSK[0-9a-f]{32}\b")),
    ("npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("pypi token", re.compile(r"\bpypi-AgE[A-Za-z0-9_\-]{50,}")),
    ("hugging face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("digitalocean token", re.compile(r"\bdo[opr]_v1_[a-f0-9]{64}\b")),
    ("shopify token", re.compile(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b")),
    ("square token", re.compile(r"\bsq0(?:atp|csp)-[0-9A-Za-z_\-]{22,}")),
    ("vault token", re.compile(r"\bhv[sbr]\.[A-Za-z0-9_\-]{24,}")),
    ("age key", re.compile(r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b")),
    ("telegram token", re.compile(r"\b\d{8,10}:AA[0-9A-Za-z_\-]{33}\b")),
    ("token", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")),
    # scheme://user:password@host (postgres, mongodb+srv, redis://:password@, amqp, ftp...).
    ("url password", re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s:/@]*:(?P<secret>[^\s/@]+)@")),
    ("http credentials", re.compile(r"(?i)\bBearer\s+(?P<secret>[A-Za-z0-9._~+/\-]{16,}=*)")),
    (
        "http credentials",
        re.compile(r"(?i)\bcurl\b[^\n]*?\s(?:-u|--user)\s+['\"]?[^\s:'\"]+:(?P<secret>[^\s'\"]+)"),
    ),
)

# Authorization: Basic <base64 of user:password>; counted only when it decodes to that.
BASIC_AUTH = re.compile(r"(?i)\bBasic\s+(?P<secret>[A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])")


def basic_credentials(encoded: str) -> bool:
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded and decoded.isascii()
