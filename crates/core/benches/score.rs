//! `score()` on in-memory ledgers of 50k, 500k and 5M records (1,025 units, province scale).
//! Throughput is reported per record; linearity shows as a constant time per record across sizes.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lvzhi_core::{LedgerBuilder, RecordFields, Roster, Rubric, RuleKind, score};

fn ledger(rubric: &Rubric, n: usize) -> lvzhi_core::Ledger {
    let mut roster = Roster::default();
    for city in 0..25 {
        for (i, u) in rubric.roster.iter().enumerate() {
            let name = format!("城市{city:02}{}", u.name);
            let tags = if i % 7 == 0 { "专委会" } else { "" };
            roster
                .add(rubric, 0, &name, &rubric.classes[u.class].code, tags)
                .expect("unit");
        }
    }
    let names: Vec<String> = roster.units().iter().map(|u| u.name.clone()).collect();
    // Unbounded per-count rules carry the volume; the year is valid whatever its size.
    let rules: Vec<&str> = rubric
        .rules
        .iter()
        .filter(|r| {
            matches!(
                r.kind,
                RuleKind::PerCount {
                    max_count: None,
                    ..
                }
            ) && r.applies_to.is_none()
        })
        .map(|r| r.code.as_str())
        .collect();
    let mut b = LedgerBuilder::new(rubric, roster);
    b.reserve_records(n);
    let dates: Vec<String> = (1..=365)
        .map(|d| {
            lvzhi_core::Date::from_ordinal(2022, d)
                .expect("day")
                .to_string()
        })
        .collect();
    for i in 0..n {
        let f = RecordFields {
            unit: names[i % names.len()].as_bytes(),
            rule: rules[(i / names.len()) % rules.len()].as_bytes(),
            count: if i % 5 == 0 { b"2" } else { b"" },
            points: b"",
            date: dates[i % 365].as_bytes(),
        };
        b.add_record(i as u64, &f).expect("valid record");
    }
    b.finish()
}

fn bench(c: &mut Criterion) {
    let rubric = Rubric::from_toml(lvzhi_core::RUBRIC_2022).expect("rubric");
    let mut g = c.benchmark_group("score");
    g.sample_size(10);
    for n in [50_000usize, 500_000, 5_000_000] {
        let l = ledger(&rubric, n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &l, |b, l| {
            b.iter(|| score(&rubric, l).expect("score"));
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
