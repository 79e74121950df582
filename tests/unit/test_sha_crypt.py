"""SHA-512 crypt against the specification's test vectors and, where openssl is
installed, against `openssl passwd -6`."""

import shutil
import subprocess

import pytest

from seedcore.sha_crypt import sha512_crypt, verify

# Ulrich Drepper's SHA-crypt.txt, the SHA-512 vectors: (salt, rounds, key, result).
SPEC_VECTORS = [
    ("saltstring", None, "Hello world!",
     "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
    ("saltstringsaltstring", 10000, "Hello world!",
     "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/"
     "YTBmSK6H9qs/y3RnOaw5v."),
    ("toolongsaltstring", 5000, "This is just a test",
     "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/"
     "e1JSbq3y6JMxxl8audkUEm0"),
    ("anotherlongsaltstring", 1400,
     "a very much longer text to encrypt.  This one even stretches over morethan one line.",
     "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7"
     "UmJEiDwGqd8p4ur1"),
    ("short", 77777, "we have a short salt string but not a short password",
     "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5Cxtg"
     "fiAc0"),
    ("asaltof16chars..", 123456, "a short string",
     "$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNr"
     "CzIMVcgEJAstJeonj1"),
    ("roundstoolow", 10, "the minimum number is still observed",
     "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqb"
     "pBYYBaHHrsX."),
]


@pytest.mark.parametrize(("salt", "rounds", "key", "expected"), SPEC_VECTORS)
def test_the_specifications_vectors(salt, rounds, key, expected):
    assert sha512_crypt(key, salt, rounds) == expected
    assert verify(key, expected)
    assert not verify(key + "x", expected)


OPENSSL_CASES = [("abcdefgh", "pässwörd with spaces"), ("S4ltS4lt/.", 'quo"te $dollar \\ back'),
                 ("0123456789abcdef", "x" * 200), ("a", "p")]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed here")
@pytest.mark.parametrize(("salt", "password"), OPENSSL_CASES)
def test_the_same_hash_as_openssl(salt, password):
    done = subprocess.run(["openssl", "passwd", "-6", "-salt", salt, "-stdin"], input=password + "\n",
                          capture_output=True, text=True, check=True)
    assert sha512_crypt(password, salt) == done.stdout.strip()


def test_a_salt_that_would_break_the_format_is_refused():
    for salt in ("a$b", "a:b", "a\nb"):
        with pytest.raises(ValueError):
            sha512_crypt("pw", salt)
