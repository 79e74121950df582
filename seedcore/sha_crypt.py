"""SHA-512 crypt (`$6$`), the password hash nginx's auth_basic_user_file reads
through the host's crypt(3), made on the control machine in pure Python.

The published algorithm (Ulrich Drepper, "Unix crypt using SHA-256 and
SHA-512", https://www.akkadia.org/drepper/SHA-crypt.txt), step by step; the
specification's own test vectors are in tests/unit/test_sha_crypt.py, which
also compares with `openssl passwd -6` when openssl is on PATH.
"""

import hashlib

ROUNDS_DEFAULT = 5000
ROUNDS_MIN = 1000
ROUNDS_MAX = 999_999_999
SALT_MAX = 16
# crypt's base-64 alphabet (not RFC 4648's).
ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# The order the 64 bytes of the final digest are written in, three at a time.
_ORDER = [(0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48),
          (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13),
          (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19),
          (62, 20, 41)]


def _b64(b2: int, b1: int, b0: int, count: int) -> str:
    value = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(count):
        out.append(ALPHABET[value & 0x3F])
        value >>= 6
    return "".join(out)


def _repeat(digest: bytes, length: int) -> bytes:
    """`length` bytes of `digest` repeated (steps 9/10, 16 and 20)."""
    return (digest * (length // 64 + 1))[:length]


def sha512_crypt(password: str | bytes, salt: str, rounds: int | None = None) -> str:
    """`$6$[rounds=N$]salt$hash` for `password`; `salt` is cut to 16 characters,
    `rounds` clamped to 1000..999999999 (None: the default 5000, not written)."""
    key = password.encode() if isinstance(password, str) else password
    salt_bytes = salt.encode()[:SALT_MAX]
    if any(chr(c) in "$:\n" for c in salt_bytes):
        raise ValueError("a crypt salt holds no $, : or newline")
    custom = rounds is not None
    rounds = ROUNDS_DEFAULT if rounds is None else min(max(rounds, ROUNDS_MIN), ROUNDS_MAX)

    alternate = hashlib.sha512(key + salt_bytes + key).digest()
    a = hashlib.sha512(key + salt_bytes + _repeat(alternate, len(key)))
    length = len(key)
    while length:
        a.update(alternate if length & 1 else key)
        length >>= 1
    digest_a = a.digest()

    p_bytes = _repeat(hashlib.sha512(key * len(key)).digest(), len(key))
    s_bytes = _repeat(hashlib.sha512(salt_bytes * (16 + digest_a[0])).digest(), len(salt_bytes))

    c = digest_a
    for i in range(rounds):
        step = hashlib.sha512()
        step.update(p_bytes if i & 1 else c)
        if i % 3:
            step.update(s_bytes)
        if i % 7:
            step.update(p_bytes)
        step.update(c if i & 1 else p_bytes)
        c = step.digest()

    encoded = "".join(_b64(c[x], c[y], c[z], 4) for x, y, z in _ORDER) + _b64(0, 0, c[63], 2)
    prefix = f"$6$rounds={rounds}$" if custom else "$6$"
    return f"{prefix}{salt_bytes.decode()}${encoded}"


def verify(password: str | bytes, hashed: str) -> bool:
    """Whether `hashed` (a `$6$` string) is `password`'s hash."""
    parts = hashed.split("$")
    if len(parts) < 4 or parts[1] != "6":
        return False
    rounds = None
    if parts[2].startswith("rounds="):
        rounds, salt = int(parts[2][len("rounds="):]), parts[3]
    else:
        salt = parts[2]
    return sha512_crypt(password, salt, rounds) == hashed
