"""Reader-level score of the multi-change feedback set: every asked change read in its direction, none reversed."""
import sys, yaml, json, collections
from attune.agent.reader import read
cases = yaml.safe_load(open(sys.argv[1]))
def sign(x): return (x > 0) - (x < 0)
res = collections.Counter(); per = collections.Counter(); perok = collections.Counter(); out = []
for c in cases:
    r = read(c["text"]); ch = r.changes
    ok_all = r.wants_music and r.sure; rev = False
    for d, want in (c.get("changes") or {}).items():
        got = sign(ch.get(d, 0))
        if d == "tempo" and not got and r.bpm: got = want
        if d == "length" and not got and r.seconds: got = want
        if d == "energy" and not got:
            alt = {sign(ch.get(k, 0)) for k in ("tempo", "loudness")} - {0}
            got = alt.pop() if len(alt) == 1 else 0
        per[d] += 1; perok[d] += got == want
        ok_all &= got == want
        rev |= got == -want
    for k in ("use", "drop"):
        for name in c.get(k) or []:
            hit = any(name in n for n in getattr(r, k)); per[k] += 1; perok[k] += hit; ok_all &= hit
    res["cases"] += 1; res["honoured"] += ok_all; res["reversed"] += rev
    res["en" if c["lang"] == "en" else "other"] += 1; res["ok_" + ("en" if c["lang"] == "en" else "other")] += ok_all
    out.append({"id": c["id"], "ok": bool(ok_all), "reversed": rev})
print(json.dumps({"honoured": round(res["honoured"] / res["cases"], 3), "reversed": res["reversed"], "cases": res["cases"],
                  "en": f'{res["ok_en"]}/{res["en"]}', "other": f'{res["ok_other"]}/{res["other"]}',
                  "per_dimension": {d: f"{perok[d]}/{per[d]}" for d in per}}))
if len(sys.argv) > 2: json.dump(out, open(sys.argv[2], "w"))
