import argparse, hashlib, json

def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

def verify(lines, prev_hash="0" * 64, keep=None):
    """Check export lines chained from prev_hash; return (events, last position, last hash) or raise ValueError.
    keep: a dict keyed by positions; each one the export reaches gets the chain hash there."""
    count, position = 0, None
    for count, line in enumerate(lines, 1):
        e = json.loads(line)
        if e["prev_hash"] != prev_hash or (position is not None and e["position"] != position + 1):
            raise ValueError(f"position {e['position']}: does not follow the event before it")
        fields = [e["prev_hash"], e["position"], e["event_id"], e["stream_id"], e["stream_version"],
                  e["type"], e["schema_version"], e["recorded_at"], e["data"], e["metadata"]]
        if hashlib.sha256(canonical(fields).encode("utf-8")).hexdigest() != e["hash"]:
            raise ValueError(f"position {e['position']}: does not match its hash")
        if keep is not None and position is None and e["position"] - 1 in keep:
            keep[e["position"] - 1] = prev_hash  # the trusted start
        prev_hash, position = e["hash"], e["position"]
        if keep is not None and position in keep:
            keep[position] = prev_hash
    return count, position, prev_hash

def verify_checkpoints(checkpoint_lines, public_key, lines, prev_hash="0" * 64):
    """Check each checkpoint's signature with public_key (hex), then the export, then that the export
    still extends every checkpoint it reaches; return (events, last position, last hash, checkpoints held)."""
    from cryptography.exceptions import InvalidSignature  # pip install cryptography
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
    checkpoints = sorted((json.loads(c) for c in checkpoint_lines if c.strip()), key=lambda c: c["position"])
    for c in checkpoints:
        signed = canonical({k: c[k] for k in ("at", "head_hash", "position", "public_key")})
        try:
            if c["public_key"] != public_key:
                raise InvalidSignature
            key.verify(bytes.fromhex(c["signature"]), signed.encode("utf-8"))
        except (InvalidSignature, ValueError):
            raise ValueError(f"position {c['position']}: forged checkpoint: not signed with the published key")
    keep = {c["position"]: None for c in checkpoints}
    count, last, last_hash = verify(lines, prev_hash, keep)
    held = 0
    for c in checkpoints:
        if last is None or c["position"] > last:
            raise ValueError(f"position {c['position']}: truncated: the log ends at position {last}, "
                             f"before the checkpoint signed at {c['at']}")
        if keep[c["position"]] is None:
            continue  # before this export starts: check it with an export that covers it
        if keep[c["position"]] != c["head_hash"]:
            raise ValueError(f"position {c['position']}: rewritten or reordered: the chain hash there is not the one "
                             f"signed at {c['at']}; events at or before it were changed since")
        held += 1
    return count, last, last_hash, held

if __name__ == "__main__":
    args = argparse.ArgumentParser(description="Verify a slogov audit export (and signed checkpoints).")
    args.add_argument("export"), args.add_argument("prev_hash", nargs="?", default="0" * 64)
    args.add_argument("--checkpoints", help="a JSON Lines file of signed checkpoints the log must extend")
    args.add_argument("--public-key", help="the published checkpoint key (64 hex digits)")
    a = args.parse_args()
    if a.checkpoints and not a.public_key:
        args.error("--checkpoints needs --public-key")
    with open(a.export, encoding="utf-8") as f:
        if a.checkpoints is None:
            print(*verify(f, a.prev_hash))
        else:
            with open(a.checkpoints, encoding="utf-8") as c:
                *result, held = verify_checkpoints(c, a.public_key, f, a.prev_hash)
            print(*result)
            print(held, "checkpoints hold")
