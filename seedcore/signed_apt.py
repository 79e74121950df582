"""Pure builders for a signed apt repository: fetch its key, check the key's
fingerprint before it becomes the repository's keyring, and refresh apt so
that a signature apt cannot verify stops the host with one line.

Downloads go through apt's own ``apt-helper`` (bare Debian has no curl), so
they use the host's apt proxy settings like every other apt fetch.
"""

import shlex

APT_HELPER = "/usr/lib/apt/apt-helper"
KEYRING_DIR = "/etc/apt/keyrings"
# What `apt-get update` prints for a source whose signature it cannot check.
SIGNATURE_ERRORS = "NO_PUBKEY|BADSIG|EXPKEYSIG|KEYEXPIRED|REVKEYSIG|is not signed"


SOURCES_DIR = "/etc/apt/sources.list.d"


def sources_path(filename: str) -> str:
    return f"{SOURCES_DIR}/{filename}.sources"


def deb822_source(uris: list[str], suites: list[str], components: list[str], architectures: list[str],
                  signed_by: str) -> str:
    """The deb822 text of one source (as ``apt.sources_file`` writes it). A
    value with whitespace would be read by apt as two values or a new field:
    refused."""
    fields = [("Types", ["deb"]), ("URIs", uris), ("Suites", suites), ("Components", components),
              ("Architectures", architectures), ("Signed-By", [signed_by])]
    lines = []
    for field, values in fields:
        bad = [value for value in values if not value or any(c.isspace() for c in value)]
        if bad:
            raise ValueError(f"apt source {field} value {bad[0]!r} is empty or holds whitespace")
        if values:
            lines.append(f"{field}: {' '.join(values)}")
    return "\n".join(lines) + "\n"


def normalise_fingerprint(fingerprint: str) -> str:
    """"9DC8 5822 ..." -> "9DC85822...": gpg's own spelling."""
    return "".join(fingerprint.split()).upper()


def primary_fingerprints(colon_lines: list[str]) -> list[str]:
    """The primary keys' fingerprints in `gpg --with-colons` output (subkeys left out)."""
    found, after_pub = [], False
    for line in colon_lines:
        fields = line.split(":")
        if fields[0] == "pub":
            after_pub = True
        elif fields[0] == "fpr" and after_pub and len(fields) > 9:
            found.append(fields[9])
            after_pub = False
        elif fields[0] in ("sub", "sec", "ssb"):
            after_pub = False
    return found


def download(url: str, dest: str, failure: str) -> str:
    """Fetch `url` to `dest` with apt-helper; on failure print `failure`, then
    apt's own error after it, and fail."""
    log = f"{dest}.log"
    return (
        f"if ! {APT_HELPER} download-file {shlex.quote(url)} {dest} >{log} 2>&1; then "
        f"echo {shlex.quote(failure)}\" ($(grep -m1 '^E: ' {log} | cut -c4-))\" >&2; "
        f"rm -f {dest} {log}; exit 1; fi; rm -f {log}"
    )


def fetch_key(host_name: str, key_url: str, keyring: str, fingerprint: str,
              fingerprint_key: str, url_key: str) -> str:
    """Download the key at `key_url`, and only if it holds exactly one primary
    key, `fingerprint`, store it (binary, as apt's signed-by reads a .gpg file)
    at `keyring`. A download holding other keys too is refused: filtering it
    would need gpg's agent, which a bare host lacks."""
    expected = normalise_fingerprint(fingerprint)
    if not expected.isalnum():
        raise ValueError(f"not a key fingerprint: {fingerprint!r}")
    before = f"host {host_name}: the key at {key_url} is not exactly {fingerprint_key}={expected} (it has: "
    after = (
        f"): nothing was stored and nothing installed from it; set {fingerprint_key} "
        f"to the mirror's real key, or fix {url_key}"
    )
    return (
        'tmp=$(mktemp -d) || exit 1; trap \'rm -rf "$tmp"\' EXIT; '
        + download(key_url, '"$tmp/key"', f"host {host_name}: could not fetch {key_url}")
        + "; "
        'found=$(gpg --batch --show-keys --with-colons "$tmp/key" 2>/dev/null '
        "| awk -F: '$1==\"pub\"{p=1;next} $1==\"fpr\"&&p{print $10;p=0}' | tr '\\n' ' ' "
        "| sed 's/ $//'); "
        f'case "$found" in {shlex.quote(expected)}) ;; '
        f"*) printf '%s%s%s\\n' {shlex.quote(before)} \"${{found:-no OpenPGP key}}\" "
        f"{shlex.quote(after)} >&2; exit 1;; esac; "
        "if grep -q -e '-----BEGIN PGP PUBLIC KEY BLOCK-----' \"$tmp/key\"; "
        'then gpg --batch --yes --dearmor -o "$tmp/keyring" "$tmp/key"; '
        'else cp "$tmp/key" "$tmp/keyring"; fi && '
        f'[ -s "$tmp/keyring" ] && install -D -m 0644 "$tmp/keyring" {shlex.quote(keyring)}'
    )


def signature_failure_line(host_name: str, repo_url: str, keyring: str, fingerprint: str,
                           fingerprint_key: str, url_key: str) -> str:
    return (
        f"host {host_name}: apt could not verify {repo_url.rstrip('/')} with the key "
        f"{normalise_fingerprint(fingerprint)} in {keyring} ({fingerprint_key}): "
        f"nothing was installed from it; sign the mirror with that key, or set {fingerprint_key} "
        f"to the key the mirror is signed with"
    )


def checked_update(host_name: str, repo_url: str, keyring: str, fingerprint: str,
                   fingerprint_key: str, url_key: str) -> str:
    """`apt-get update`, failing with one line when apt reports that `repo_url`'s
    signature does not verify (apt itself only warns for some of these and would
    go on with stale lists)."""
    line = signature_failure_line(host_name, repo_url, keyring, fingerprint, fingerprint_key, url_key)
    return (
        "out=$(apt-get update 2>&1); status=$?; "
        f"if printf '%s\\n' \"$out\" | grep -F -e {shlex.quote(repo_url.rstrip('/'))} "
        f"| grep -q -E {shlex.quote(SIGNATURE_ERRORS)}; then "
        f"echo {shlex.quote(line)} >&2; exit 1; fi; "
        "if [ \"$status\" -ne 0 ]; then printf '%s\\n' \"$out\" >&2; fi; exit \"$status\""
    )


def release_url(repo_url: str, suite: str) -> str:
    """Where a repository's Release file for `suite` lives."""
    return f"{repo_url.rstrip('/')}/dists/{suite}/Release"
