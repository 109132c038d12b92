import hashlib, json, sys

def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

def verify(lines, prev_hash="0" * 64):
    """Check export lines chained from prev_hash; return (events, last position, last hash) or raise ValueError."""
    count, position = 0, None
    for count, line in enumerate(lines, 1):
        e = json.loads(line)
        if e["prev_hash"] != prev_hash or (position is not None and e["position"] != position + 1):
            raise ValueError(f"position {e['position']}: does not follow the event before it")
        fields = [e["prev_hash"], e["position"], e["event_id"], e["stream_id"], e["stream_version"],
                  e["type"], e["schema_version"], e["recorded_at"], e["data"], e["metadata"]]
        if hashlib.sha256(canonical(fields).encode("utf-8")).hexdigest() != e["hash"]:
            raise ValueError(f"position {e['position']}: does not match its hash")
        prev_hash, position = e["hash"], e["position"]
    return count, position, prev_hash

if __name__ == "__main__":  # python verify_export.py EXPORT.jsonl [PREV_HASH]  (default: a full export)
    with open(sys.argv[1], encoding="utf-8") as f:
        print(*verify(f, *sys.argv[2:3]))
