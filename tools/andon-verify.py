#!/usr/bin/env python3
"""andon-verify - check Andon's audit trail without Andon.

A reference verifier in a second language, from the standards only:
RFC 8785 (JSON Canonicalization Scheme) for the events' canonical form,
RFC 9162 for the Merkle tree hashing and inclusion proofs, Ed25519
(python3-cryptography) for the signed tree heads, SHA-256 for the hash
chain.  Python 3 standard library otherwise.

    andon-verify.py receipt FILE [--public-key BASE64]
        FILE: the answer of GET /v1/transparency/receipts/{id}.  Checks the
        event's own hash, its leaf, the inclusion proof up to the signed
        tree head's root and the head's Ed25519 signature (under
        --public-key, from GET /v1/transparency/key; without it the key in
        the receipt, which proves consistency only).

    andon-verify.py selftest
        Checks this tool's canonical form against RFC 8785's examples.

    andon-verify.py export FILE [--contiguous]
        FILE: an NDJSON export (GET /v1/audit/events with
        Accept: application/x-ndjson), "-" for stdin.  Checks every event's
        hash, that seqs increase, and every link between consecutive seqs;
        gaps (other tenants' or filtered-out events) are counted, or refused
        with --contiguous.

Events marked "canon": "jcs" are hashed over their RFC 8785 form.  Events
written before that marker are hashed over jansson's compact dump with
sorted keys and every non-ASCII character as \\uXXXX (upper-case hex),
which this tool also reproduces.

Exit status: 0 valid, 1 invalid (the reason on stdout), 2 usage or I/O.
"""

import base64
import decimal
import hashlib
import json
import math
import struct
import sys

ZERO_HASH = "0" * 64


class Invalid(Exception):
    pass


# RFC 8785

def jcs_number(x):
    """ECMAScript's Number.prototype.toString of the double x."""
    if isinstance(x, bool):
        raise Invalid("a boolean is not a number")
    x = float(x)          # an integer is the double it denotes
    if math.isnan(x) or math.isinf(x):
        raise Invalid("NaN and infinities have no JSON form")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    # repr() gives the shortest digits that read back as x, the closest
    # to x among several, as ECMAScript does
    _, digit_tuple, exponent = decimal.Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped
    n = exponent + len(digits)     # value = 0.digits * 10^n
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    return (sign + digits[0] + ("." + digits[1:] if k > 1 else "") +
            "e" + ("+" if e >= 0 else "-") + str(abs(e)))


def escape(s, hex_format, ascii_only):
    """A JSON string: '"', '\\' and C0 controls escaped (the common ones
    by name); with ascii_only every non-ASCII character as \\uXXXX too."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif c < 0x20:
            out.append({8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f",
                        13: "\\r"}.get(c, hex_format % c))
        elif c > 0x7F and ascii_only:
            if c > 0xFFFF:
                c -= 0x10000
                out.append(hex_format % (0xD800 | (c >> 10)) +
                           hex_format % (0xDC00 | (c & 0x3FF)))
            else:
                out.append(hex_format % c)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jcs_string(s):
    return escape(s, "\\u%04x", False)


def legacy_string(s):
    return escape(s, "\\u%04X", True)


def legacy_number(x):
    if isinstance(x, int):
        return str(x)
    text = "%.17g" % x
    return text if ("." in text or "e" in text) else text + ".0"


def dump(v, string, number, key_order):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return number(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, list):
        return "[" + ",".join(dump(x, string, number, key_order) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(string(k) + ":" + dump(v[k], string, number, key_order)
                              for k in sorted(v, key=key_order)) + "}"
    raise Invalid("not a JSON value: %r" % (v,))


def jcs(v):
    """The RFC 8785 canonical text of a parsed JSON value: members sorted
    by their UTF-16 code units."""
    return dump(v, jcs_string, jcs_number, lambda k: k.encode("utf-16-be"))


def legacy(v):
    """The form of events written before the "canon" marker: jansson's
    json_dumps(JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)."""
    return dump(v, legacy_string, legacy_number, lambda k: k.encode("utf-8"))


def canonical(event):
    """The bytes an event's hash and leaf cover."""
    if "canon" not in event:
        return legacy(event).encode("ascii")
    if event["canon"] == "jcs":
        return jcs(event).encode("utf-8")
    raise Invalid("unknown canonical form %r" % (event["canon"],))


def event_hash_ok(event):
    stored = event.get("hash")
    if not isinstance(stored, str) or len(stored) != 64:
        return False
    rest = {k: v for k, v in event.items() if k != "hash"}
    return hashlib.sha256(canonical(rest)).hexdigest() == stored


# RFC 9162

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index, size, leaf, proof):
    """RFC 9162 2.1.3.2: the root an inclusion proof leads to, or None."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def b64(text, size, what):
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise Invalid("%s is not base64" % what)
    if len(raw) != size:
        raise Invalid("%s is not %d bytes" % (what, size))
    return raw


def verify_receipt(receipt, public_key=None):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    event, sth = receipt.get("event"), receipt.get("sth")
    proof, index = receipt.get("inclusion_proof"), receipt.get("leaf_index")
    if not isinstance(event, dict) or not isinstance(sth, dict) or \
            not isinstance(proof, list) or not isinstance(index, int):
        raise Invalid("the receipt is incomplete")
    size, ts = sth.get("tree_size"), sth.get("timestamp")
    if not isinstance(size, int) or not isinstance(ts, int) or not 0 <= index < size:
        raise Invalid("the signed tree head is incomplete")
    if not event_hash_ok(event):
        raise Invalid("the event's own hash does not match its content")
    path = [b64(p, 32, "an inclusion proof hash") for p in proof]
    root = b64(sth.get("root_hash"), 32, "the root hash")
    sig = b64(sth.get("signature"), 64, "the signature")
    leaf = leaf_hash(canonical(event))
    if receipt.get("leaf_hash") is not None and \
            b64(receipt["leaf_hash"], 32, "the leaf hash") != leaf:
        raise Invalid("the leaf hash is not the hash of the event")
    if root_from_inclusion(index, size, leaf, path) != root:
        raise Invalid("the event is not included in the signed tree head")
    # version 0, signature type 1, timestamp ms, tree size, root (tlog.h)
    message = struct.pack(">BBQQ", 0, 1, ts, size) + root
    key = b64(public_key or sth.get("public_key"), 32, "the public key")
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(sig, message)
    except InvalidSignature:
        raise Invalid("the tree head signature does not verify")
    return "event %s is leaf %d of a tree of %d signed by the log" % (
        event.get("id"), index, size)


def verify_export(lines, contiguous=False):
    events = links = gaps = last_seq = 0
    last_hash = None
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        events += 1
        try:
            event = json.loads(line)
        except ValueError as e:
            raise Invalid("line %d is not JSON: %s" % (number, e))
        if not isinstance(event, dict):
            raise Invalid("line %d is not an audit event" % number)
        seq, prev = event.get("seq"), event.get("prev_hash")
        if not isinstance(seq, int) or seq < 1 or not isinstance(prev, str):
            raise Invalid("line %d is not an audit event" % number)
        if seq <= last_seq:
            raise Invalid("event %d is out of order or repeated" % seq)
        if not event_hash_ok(event):
            raise Invalid("event %d has been altered" % seq)
        if seq == last_seq + 1:
            # the first event of all chains to zeros
            if prev != (last_hash if last_seq > 0 else ZERO_HASH):
                raise Invalid("event %d does not chain to event %d" % (seq, last_seq))
            links += 1
        elif last_seq == 0:
            pass    # an export that starts later (a tenant's, or resumed)
        elif contiguous:
            raise Invalid("events %d to %d are missing" % (last_seq + 1, seq - 1))
        else:
            gaps += 1
        last_seq, last_hash = seq, event["hash"]
    return "%d events, %d links checked, %d gaps; last seq %d hash %s" % (
        events, links, gaps, last_seq, last_hash or "-")


# RFC 8785's own examples (3.2.2, 3.2.3, appendix B)
SELFTEST_NUMBERS = [
    (0x0000000000000000, "0"), (0x8000000000000000, "0"),
    (0x0000000000000001, "5e-324"), (0x8000000000000001, "-5e-324"),
    (0x7fefffffffffffff, "1.7976931348623157e+308"),
    (0xffefffffffffffff, "-1.7976931348623157e+308"),
    (0x4340000000000000, "9007199254740992"),
    (0xc340000000000000, "-9007199254740992"),
    (0x4430000000000000, "295147905179352830000"),
    (0x44b52d02c7e14af5, "9.999999999999997e+22"),
    (0x44b52d02c7e14af6, "1e+23"), (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
    (0x444b1ae4d6e2ef4e, "999999999999999700000"),
    (0x444b1ae4d6e2ef4f, "999999999999999900000"),
    (0x444b1ae4d6e2ef50, "1e+21"), (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
    (0x3eb0c6f7a0b5ed8d, "0.000001"), (0x41b3de4355555553, "333333333.3333332"),
    (0x41b3de4355555554, "333333333.33333325"),
    (0x41b3de4355555555, "333333333.3333333"),
    (0x41b3de4355555556, "333333333.3333334"),
    (0x41b3de4355555557, "333333333.33333343"),
    (0xbecbf647612f3696, "-0.0000033333333333333333"),
    (0x43143ff3c1cb0959, "1424953923781206.2"),
]
SELFTEST_DOCUMENTS = [
    ('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
     ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
     ' "literals": [null, true, false]}',
     '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
     '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'),
    ('{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet'
     ' With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080":'
     ' "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}',
     '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter'
     ' O With Diaeresis","\u20ac":"Euro Sign","\U0001F600":"Emoji: Grinning Face",'
     '"\ufb33":"Hebrew Letter Dalet With Dagesh"}'),
]


def selftest():
    for bits, want in SELFTEST_NUMBERS:
        got = jcs_number(struct.unpack(">d", struct.pack(">Q", bits))[0])
        if got != want:
            raise Invalid("number %016x: %s, not %s" % (bits, got, want))
    for text, want in SELFTEST_DOCUMENTS:
        got = jcs(json.loads(text))
        if got != want:
            raise Invalid("document %s: %s, not %s" % (text, got, want))
    return "RFC 8785 examples: %d numbers, %d documents" % (
        len(SELFTEST_NUMBERS), len(SELFTEST_DOCUMENTS))


def main(argv):
    args = argv[1:]
    if args == ["selftest"]:
        try:
            print("ok: " + selftest())
        except Invalid as e:
            print("INVALID: %s" % e)
            return 1
        return 0
    if len(args) < 2 or args[0] not in ("receipt", "export"):
        sys.stderr.write(__doc__)
        return 2
    command, path, rest = args[0], args[1], args[2:]
    try:
        stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
    except OSError as e:
        sys.stderr.write("andon-verify: %s\n" % e)
        return 2
    try:
        with stream:
            if command == "receipt":
                key = None
                if rest[:1] == ["--public-key"] and len(rest) == 2:
                    key = rest[1]
                elif rest:
                    sys.stderr.write(__doc__)
                    return 2
                try:
                    receipt = json.load(stream)
                except ValueError as e:
                    raise Invalid("the receipt is not JSON: %s" % e)
                if not isinstance(receipt, dict):
                    raise Invalid("the receipt is not an object")
                print("ok: " + verify_receipt(receipt, key))
            else:
                if rest not in ([], ["--contiguous"]):
                    sys.stderr.write(__doc__)
                    return 2
                print("ok: " + verify_export(stream, bool(rest)))
    except Invalid as e:
        print("INVALID: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
