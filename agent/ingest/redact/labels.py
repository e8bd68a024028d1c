"""The words that announce a secret, in one place: English, German, French, Spanish, Portuguese,
Dutch and Chinese. Data only; agent/ingest/redact/labelled.py turns them into patterns.

Each label is matched case-insensitively, as whole words where the script has words (a space
inside a label matches any run of spaces or a hyphen).
"""

from __future__ import annotations

# What follows one of these (after "is", ":" or "=") is a password.
PASSWORD = (
    "password",
    "pw",
    "passwd",
    "passphrase",
    "passcode",
    "passwort",
    "kennwort",
    "mot de passe",
    "contraseña",
    "contrasena",
    "senha",
    "wachtwoord",
    "密码",
    "口令",
)

# What follows one of these is a PIN or a card's security code (3 to 8 digits). Door, gate
# and locker codes are left out on purpose: they are what people ask papertape to remember.
PIN = (
    "pin",
    "pin code",
    "pin number",
    "pincode",
    "pin-code",
    "geheimzahl",
    "code pin",
    "código pin",
    "cvv",
    "cvv2",
    "cvc",
    "security code",
    "pin码",
    "密码",
)

# What follows one of these is an API key or token (it must look like one: 8+ characters
# with a digit).
API_KEY = (
    "api key",
    "api token",
    "api secret",
    "access token",
    "access key",
    "secret key",
    "client secret",
    "auth token",
    "bearer token",
    "private key",
    "app password",
    "api-schlüssel",
    "clé api",
    "clave api",
    "clave de api",
    "chave de api",
    "api密钥",
    "密钥",
)

# What follows one of these is a passport number (6 to 10 letters and digits, with a digit).
PASSPORT = (
    "passport",
    "passport number",
    "passport no",
    "reisepass",
    "reisepassnummer",
    "passnummer",
    "passeport",
    "numéro de passeport",
    "pasaporte",
    "número de pasaporte",
    "passaporte",
    "paspoort",
    "护照",
    "护照号",
    "护照号码",
)

# A US social security number after one of these may be written without dashes.
SSN = ("ssn", "social security number", "social security no", "social security #")

# What follows one of these is a list of one-time codes (each 4-12 letters and digits, with a
# digit, perhaps in dash-joined groups).
RECOVERY_CODES = (
    "recovery codes",
    "recovery code",
    "backup codes",
    "backup code",
    "2fa codes",
    "2fa code",
    "2fa recovery codes",
    "2fa backup codes",
    "two-factor recovery codes",
    "wiederherstellungscodes",
    "backup-codes",
    "codes de récupération",
    "codes de secours",
    "códigos de recuperación",
    "códigos de respaldo",
    "恢复码",
    "备用码",
)

# What follows one of these is a wallet's seed: 12 to 24 words.
SEED_PHRASE = (
    "seed phrase",
    "seed words",
    "seed",
    "recovery phrase",
    "secret recovery phrase",
    "mnemonic",
    "mnemonic phrase",
    "backup phrase",
    "wallet words",
    "seed-phrase",
    "wiederherstellungsphrase",
    "phrase de récupération",
    "frase semilla",
    "frase de recuperación",
    "助记词",
)

# Card labels: a Luhn-valid number with a card's prefix counts as a card after one of these
# (or when written in a card's grouping).
CARD = (
    "card",
    "card number",
    "credit card",
    "debit card",
    "visa",
    "mastercard",
    "amex",
    "american express",
    "discover",
    "cc",
    "karte",
    "kartennummer",
    "kreditkarte",
    "carte",
    "numéro de carte",
    "tarjeta",
    "número de tarjeta",
    "cartão",
    "卡号",
    "信用卡",
    "银行卡",
)

# "<label> is <value>": the verbs and signs that join a label to its value.
IS = ("is", "are", "ist", "lautet", "sind", "est", "sont", "es", "son", "é", "são", "是", "为")

# "the password for the office wifi is ...": words that may join a label to what it is for.
FOR = (
    "for",
    "to",
    "of",
    "on",
    "at",
    "für",
    "zum",
    "zur",
    "vom",
    "von",
    "meiner",
    "meines",
    "deiner",
    "pour",
    "du",
    "de",
    "des",
    "para",
    "del",
    "da",
    "do",
    "voor",
    "van",
    "的",
)

# Words that follow "password is" in ordinary sentences and are not the password.
NOT_A_VALUE = frozenset(
    """
    a an the my your our their his her its this that same different not no too very so
    wrong incorrect invalid expired weak strong short long correct required optional missing
    empty blank unknown hidden secret case-sensitive changed reset set saved stored written
    still now just also only being been in on at for of to with without from by under
    somewhere there here below above needed mandatory protected encrypted masked none null
    nicht falsch zu der die das ein eine kein keine leer abgelaufen geändert
    pas faux trop le la les un une vide expiré changé
    no incorrecta demasiado el la los un una vacía caducada cambiada
    """.split()
)
