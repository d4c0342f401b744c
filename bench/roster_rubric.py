"""The 2022 rubric with a generated roster: writes OUT, the shipped rubric's rules with the units (and
their tags) of DIR/units.csv, under another rubric id when ID is given.

Usage: python3 bench/roster_rubric.py DIR OUT [ID]   (used by the scripts/bench-* that generate years)
"""
import csv
import sys

year, out = sys.argv[1], sys.argv[2]
text = open("rubrics/2022.toml", encoding="utf-8").read()
head = text[: text.index("[[units]]")]
if len(sys.argv) > 3:
    head = head.replace('id = "zjg-2022"', f'id = "{sys.argv[3]}"', 1)
with open(f"{year}/units.csv", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))


def unit(r):
    tags = [t for t in r.get("tags", "").split(";") if t]
    listed = ", ".join(f'"{t}"' for t in tags)
    return f'[[units]]\nname = "{r["name"]}"\nclass = "{r["class"]}"\n' + (f"tags = [{listed}]\n" if tags else "")


open(out, "w", encoding="utf-8").write(head + "\n".join(unit(r) for r in rows))
