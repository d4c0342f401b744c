"""The peer a data person would reach for: DuckDB running one SQL query over the same CSV files.

Same caps (sections, categories), veto, assessor means (rounded to 2 decimals), conversion (half up)
and ranks as `lvzhi score`; no validation at all. Prints the results as JSON lines
(unit, class, total, converted, rank, veto, lowest_grade, incomplete) for comparison.

Usage: python3 bench/duckdb_peer.py DATA_DIR RULES_CSV
"""
import json
import sys

import duckdb

QUERY = """
WITH
units AS (SELECT name AS unit, class, coalesce(tags, '') AS tags
          FROM read_csv('{d}/units.csv', header = true, all_varchar = true)),
rules AS (SELECT * FROM read_csv('{rules}', header = true, all_varchar = true)),
rec AS (SELECT unit, rule, coalesce(try_cast(count AS BIGINT), 1) AS cnt,
               try_cast(points AS DECIMAL(18, 2)) AS pts
        FROM read_csv('{d}/records.csv', header = true, all_varchar = true)),
agg AS (SELECT unit, rule, sum(cnt) AS cnt, sum(pts) AS pts, count(*) AS n FROM rec GROUP BY ALL),
ass AS (SELECT unit, rule,
               -- exact mean in hundredths, half up, kept DECIMAL (a DECIMAL division would give DOUBLE)
               ((2 * sum(CAST(CAST(score AS DECIMAL(18, 2)) * 100 AS BIGINT)) + count(*)) // (2 * count(*)))
                 * 0.01::DECIMAL(3, 2) AS mean
        FROM read_csv('{d}/assessments.csv', header = true, all_varchar = true) GROUP BY ALL),
met AS (SELECT unit, metric, CAST(value AS DECIMAL(18, 4)) AS v
        FROM read_csv('{d}/metrics.csv', header = true, all_varchar = true)),
applicable AS (
  SELECT u.unit, u.class, r.code, r.kind, r.ord::INT AS ord, r.category, r.section,
         r.points::DECIMAL(18, 2) AS points, r.max::DECIMAL(18, 2) AS rmax,
         r.cat_max::DECIMAL(18, 2) AS cat_max, r.sec_max::DECIMAL(18, 2) AS sec_max,
         r.metric, r.reference
  FROM units u CROSS JOIN rules r
  WHERE r.applies_to IS NULL OR list_contains(string_split(u.tags, ';'), r.applies_to)),
lines AS (
  SELECT a.unit, a.class, a.code, a.ord, a.category, a.section, a.cat_max, a.sec_max,
    CASE a.kind
      WHEN 'fixed' THEN CASE WHEN g.n > 0 THEN a.points ELSE 0 END
      WHEN 'per_count' THEN coalesce(g.cnt, 0) * a.points
      WHEN 'range' THEN coalesce(g.pts, 0)
      WHEN 'assessed' THEN coalesce(a.rmax - s.mean, 0)
      WHEN 'metric_below' THEN CASE WHEN m1.v < m2.v THEN a.points ELSE 0 END
      ELSE 0 END AS d,
    coalesce(a.kind = 'veto' AND g.n > 0, false) AS veto,
    coalesce(a.kind IN ('veto', 'lowest_grade') AND g.n > 0, false) AS lowest,
    CASE WHEN (a.kind = 'assessed' AND s.mean IS NULL)
           OR (a.kind = 'metric_below' AND (m1.v IS NULL OR m2.v IS NULL)) THEN a.code END AS missing
  FROM applicable a
  LEFT JOIN agg g ON g.unit = a.unit AND g.rule = a.code
  LEFT JOIN ass s ON s.unit = a.unit AND s.rule = a.code
  LEFT JOIN met m1 ON m1.unit = a.unit AND m1.metric = a.metric
  LEFT JOIN met m2 ON m2.unit = a.unit AND m2.metric = a.reference),
sec AS (SELECT unit, class, category, cat_max, least(sum(d), max(sec_max)) AS d
        FROM lines WHERE section IS NOT NULL GROUP BY unit, class, category, cat_max, section),
loose AS (SELECT unit, class, category, cat_max, sum(d) AS d
          FROM lines WHERE section IS NULL GROUP BY unit, class, category, cat_max),
cat AS (SELECT unit, class, category, cat_max, least(sum(d), cat_max) AS d
        FROM (SELECT * FROM sec UNION ALL SELECT * FROM loose) WHERE cat_max > 0
        GROUP BY unit, class, category, cat_max),
flags AS (SELECT unit, bool_or(veto) AS veto, bool_or(lowest) AS lowest,
                 list(missing ORDER BY ord) FILTER (WHERE missing IS NOT NULL) AS incomplete
          FROM lines GROUP BY unit),
tot AS (SELECT unit, class, sum(cat_max - d) AS subtotal FROM cat GROUP BY unit, class),
res AS (SELECT t.unit, t.class, CASE WHEN f.veto THEN 0 ELSE t.subtotal END AS total,
               f.veto, f.lowest, coalesce(f.incomplete, []) AS incomplete
        FROM tot t JOIN flags f USING (unit)),
conv AS (SELECT *, round(total * (CASE class WHEN 'A' THEN 3 ELSE 2 END) * 0.01::DECIMAL(3, 2), 2) AS converted
         FROM res)
SELECT unit, class, total, converted,
       rank() OVER (PARTITION BY class ORDER BY converted DESC) AS rank, veto, lowest, incomplete
FROM conv ORDER BY class, rank, unit
"""


def main():
    data, rules = sys.argv[1], sys.argv[2]
    rows = duckdb.sql(QUERY.format(d=data, rules=rules)).fetchall()
    out = sys.stdout
    for unit, cls, total, conv, rank, veto, lowest, incomplete in rows:
        out.write(json.dumps({
            "unit": unit, "class": cls, "total": f"{total:.2f}", "converted": f"{conv:.2f}",
            "rank": rank, "veto": bool(veto), "lowest_grade": bool(lowest), "incomplete": incomplete,
        }, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
