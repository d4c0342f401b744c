//! Deterministic generators of assessment years, for the shipped sample, benchmarks and tests.
//!
//! A generated year only contains rows the rubric accepts (applicability, once-a-year, `max_count`,
//! alternatives, ranges, dates inside the year), so that it exercises the scoring rather than the
//! error paths. The same seed always gives the same files. Not part of the shipped program.

use std::io::Write;

use lvzhi_core::{Rubric, RuleKind};

/// `SplitMix64`: small, fast, and good enough for test data (not for anything secret).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
    /// True with probability `p_per_mille / 1000`.
    pub fn chance(&mut self, p_per_mille: u64) -> bool {
        self.below(1000) < p_per_mille
    }
}

/// One unit of a generated roster.
#[derive(Clone, Debug)]
pub struct GenUnit {
    pub name: String,
    pub class: String,
    pub tags: Vec<String>,
}

/// What to generate.
pub struct Plan {
    pub seed: u64,
    /// Target number of records per unit (the total is close to units × this).
    pub records_per_unit: u32,
    /// Per mille of units with a veto record.
    pub veto_per_mille: u64,
    /// Per mille of units with no 督导组 score, and with no metrics.
    pub missing_per_mille: u64,
}

/// Units that lead a specialised committee (专委会) in the sample roster.
pub const COMMITTEE_LEADS: &[&str] = &[
    "公安局",
    "住建局",
    "交通运输局",
    "应急管理局",
    "市场监管局",
    "消防救援大队",
];

/// The 25 cities of the province-scale year.
pub const CITIES: &[&str] = &[
    "张家港市",
    "常熟市",
    "太仓市",
    "昆山市",
    "吴江区",
    "吴中区",
    "相城区",
    "姑苏区",
    "虎丘区",
    "工业园区",
    "江阴市",
    "宜兴市",
    "溧阳市",
    "金坛区",
    "丹阳市",
    "扬中市",
    "句容市",
    "靖江市",
    "泰兴市",
    "兴化市",
    "如皋市",
    "海安市",
    "启东市",
    "海门区",
    "东台市",
];

/// The rubric's roster, repeated for `cities` cities (one city: the names unchanged).
pub fn roster(rubric: &Rubric, cities: usize) -> Vec<GenUnit> {
    let mut out = Vec::new();
    for c in 0..cities {
        for u in &rubric.roster {
            let name = if cities == 1 {
                u.name.clone()
            } else {
                format!("{}{}", CITIES[c % CITIES.len()], u.name)
            };
            let mut tags = u.tags.clone();
            if COMMITTEE_LEADS.contains(&u.name.as_str()) && !tags.iter().any(|t| t == "专委会")
            {
                tags.push("专委会".to_owned());
            }
            out.push(GenUnit {
                name,
                class: rubric.classes[u.class].code.clone(),
                tags,
            });
        }
    }
    out
}

const NOTES: &[&str] = &[
    "督导组检查发现",
    "季度督导通报指出",
    "安委办抽查发现",
    "市政府检查发现",
    "逾期未报送，经催报后补报",
    "复查时仍未完成整改",
    "专项检查通报",
    "材料审核不通过",
];

const GROUPS: [&str; 8] = [
    "第一督导组",
    "第二督导组",
    "第三督导组",
    "第四督导组",
    "第五督导组",
    "第六督导组",
    "第七督导组",
    "第八督导组",
];

/// Writes units, records, assessments and metrics CSV files for a generated year.
pub fn write_year(
    rubric: &Rubric,
    units: &[GenUnit],
    plan: &Plan,
    out_units: impl Write,
    out_records: impl Write,
    out_assessments: impl Write,
    out_metrics: impl Write,
) -> anyhow::Result<u64> {
    let mut rng = Rng::new(plan.seed);
    let mut wu = csv::Writer::from_writer(out_units);
    wu.write_record(["name", "class", "tags"])?;
    for u in units {
        wu.write_record([u.name.as_str(), u.class.as_str(), &u.tags.join(";")])?;
    }
    wu.flush()?;

    let mut wr = csv::WriterBuilder::new()
        .buffer_capacity(1 << 20)
        .from_writer(out_records);
    wr.write_record(["unit", "rule", "count", "points", "date", "source", "note"])?;
    let mut written = 0u64;
    let recorded: Vec<usize> = (0..rubric.rules.len())
        .filter(|&i| rubric.rules[i].kind.is_recorded())
        .collect();
    // Weights: frequent small failings are common, grave ones rare.
    let weight = |k: &RuleKind| -> u64 {
        match k {
            RuleKind::PerCount { points, max_count } => {
                let base = match points.hundredths() {
                    0..=20 => 40,
                    21..=50 => 3,
                    51..=100 => 1,
                    _ => 0,
                };
                if max_count.is_some() { base / 2 } else { base }
            }
            RuleKind::Fixed { .. } | RuleKind::Graded { .. } => 1,
            _ => 0, // range, veto, lowest grade: placed deliberately below
        }
    };
    let weights: Vec<u64> = recorded
        .iter()
        .map(|&i| weight(&rubric.rules[i].kind))
        .collect();
    let wsum: u64 = weights.iter().sum();
    let year = rubric.year;
    let row = |wr: &mut csv::Writer<_>,
               rng: &mut Rng,
               unit: &str,
               rule: &str,
               count: u32,
               points: &str|
     -> anyhow::Result<()> {
        let day = 1 + rng.below(365) as u16;
        let date = lvzhi_core::Date::from_ordinal(year, day)
            .map(|d| d.to_string())
            .unwrap_or_default();
        let source = format!("张安办〔{year}〕{}号", 1 + rng.below(180));
        let note = NOTES[rng.below(NOTES.len() as u64) as usize];
        let count = if count == 1 {
            String::new()
        } else {
            count.to_string()
        };
        wr.write_record([unit, rule, &count, points, &date, &source, note])?;
        Ok(())
    };
    for u in units {
        let mut used = vec![0u64; rubric.rules.len()];
        let applies = |ri: usize| {
            rubric.rules[ri]
                .applies_to
                .as_ref()
                .is_none_or(|t| u.tags.iter().any(|x| x == t))
        };
        if plan.veto_per_mille > 0 && rng.chance(plan.veto_per_mille) {
            for (i, r) in rubric.rules.iter().enumerate() {
                if matches!(r.kind, RuleKind::Veto) {
                    row(&mut wr, &mut rng, &u.name, &r.code, 1, "")?;
                    used[i] = 1;
                    written += 1;
                }
            }
        }
        for (i, r) in rubric.rules.iter().enumerate() {
            if let RuleKind::Range { min, max } = r.kind
                && rng.chance(60)
                && applies(i)
            {
                let span = (max.hundredths() - min.hundredths()) / 50;
                let p = lvzhi_core::Points::from_hundredths(
                    min.hundredths() + 50 * rng.below(span as u64 + 1) as i64,
                );
                row(&mut wr, &mut rng, &u.name, &r.code, 1, &p.to_string())?;
                used[i] = 1;
                written += 1;
            }
        }
        // Units differ in diligence: between 0.4 and 1.6 times the planned rate.
        let target = u64::from(plan.records_per_unit) * (40 + rng.below(121)) / 100;
        let mut n = 0u64;
        let mut tries = 0u64;
        while n < target && tries < target * 20 && wsum > 0 {
            tries += 1;
            let mut pick = rng.below(wsum);
            let mut k = 0;
            while pick >= weights[k] {
                pick -= weights[k];
                k += 1;
            }
            let ri = recorded[k];
            let r = &rubric.rules[ri];
            if !applies(ri) || r.excludes.iter().any(|&x| used[x] > 0) {
                continue;
            }
            let count: u32 = match r.kind {
                RuleKind::PerCount { max_count, .. } => {
                    let c = if rng.chance(850) {
                        1
                    } else {
                        2 + rng.below(2) as u32
                    };
                    if let Some(m) = max_count
                        && used[ri] + u64::from(c) > u64::from(m)
                    {
                        continue;
                    }
                    c
                }
                _ if used[ri] > 0 => continue,
                _ => 1,
            };
            let points = match &r.kind {
                RuleKind::Graded { levels } => levels[rng.below(levels.len() as u64) as usize]
                    .points
                    .to_string(),
                _ => String::new(),
            };
            row(&mut wr, &mut rng, &u.name, &r.code, count, &points)?;
            used[ri] += u64::from(count);
            n += 1;
            written += 1;
        }
    }
    wr.flush()?;

    let mut wa = csv::Writer::from_writer(out_assessments);
    wa.write_record(["unit", "rule", "assessor", "score"])?;
    let mut wm = csv::Writer::from_writer(out_metrics);
    wm.write_record(["unit", "metric", "value"])?;
    let suzhou_avg = 150 + rng.below(60);
    for (ui, u) in units.iter().enumerate() {
        for r in &rubric.rules {
            if let RuleKind::Assessed { max, .. } = r.kind {
                if rng.chance(plan.missing_per_mille) {
                    continue;
                }
                let groups = 1 + rng.below(2) as usize;
                for g in 0..groups {
                    let group = GROUPS[(ui + g * 3) % GROUPS.len()];
                    let lo = max.hundredths() * 7 / 10;
                    let s = lo + rng.below((max.hundredths() - lo) as u64 / 10 + 1) as i64 * 10;
                    let s = lvzhi_core::Points::from_hundredths(s.min(max.hundredths()));
                    wa.write_record([u.name.as_str(), r.code.as_str(), group, &s.to_string()])?;
                }
            }
        }
        if rng.chance(plan.missing_per_mille) {
            continue;
        }
        let entries = 60 + rng.below(300);
        let last = 60 + rng.below(300);
        for (m, v) in [
            ("hazard_entries", entries.to_string()),
            ("hazard_entries_suzhou_avg", format!("{suzhou_avg}.5")),
            ("hazard_entries_last_year", last.to_string()),
        ] {
            if rubric.metric_by_code(m).is_some() {
                wm.write_record([u.name.as_str(), m, &v])?;
            }
        }
    }
    wa.flush()?;
    wm.flush()?;
    Ok(written)
}
