//! Exports say what the store holds: every record's state by its name (a record replaced on appeal
//! is not "in force"), the points its rule gives, and the rows a unit's sheet counts.

use calamine::{Reader, Xlsx};
use lvzhi_core::{Decision, NewRecord};
use lvzhi_exchange::{Export, Format, export};
use lvzhi_store::{Actor, Store};

fn rec(unit: &str, rule: &str, count: &str) -> NewRecord {
    NewRecord {
        unit: unit.into(),
        rule: rule.into(),
        count: Some(count.into()),
        date: Some("2022-03-01".into()),
        source: "张安办〔2022〕3号".into(),
        ..NewRecord::default()
    }
}

/// The cells of the first sheet, as text.
fn cells(bytes: Vec<u8>) -> Vec<Vec<String>> {
    let mut wb = Xlsx::new(std::io::Cursor::new(bytes)).expect("an xlsx");
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).expect("sheet");
    range
        .rows()
        .map(|r| r.iter().map(ToString::to_string).collect())
        .collect()
}

#[tokio::test]
async fn the_ledger_names_every_state() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(&Store::sqlite_url(dir.path()))
        .await
        .expect("store");
    let office = Actor::new("admin", "test");
    store
        .ensure_period(lvzhi_core::RUBRIC_2022, &office)
        .await
        .expect("period");
    let a = store
        .add_record(2022, &rec("发改委", "2.3", "2"), &office)
        .await
        .expect("a");
    let b = store
        .add_record(2022, &rec("发改委", "2.5", "1"), &office)
        .await
        .expect("b");
    store
        .confirm_records(2022, &[a.id], None, &office)
        .await
        .expect("confirm");
    store
        .appeal(
            2022,
            a.id,
            "发改委",
            "只有一个成员未列入",
            &Actor::new("fgw", "test"),
        )
        .await
        .expect("appeal");
    let (_, changed) = store
        .decide(
            2022,
            a.id,
            Decision::Changed,
            "核实为一人",
            Some(&rec("发改委", "2.3", "1")),
            &office,
        )
        .await
        .expect("change");
    let changed = changed.expect("the replacement");
    let rows = cells(
        export(&store, 2022, Export::Ledger, Format::Xlsx)
            .await
            .expect("ledger"),
    );
    let head = rows
        .iter()
        .position(|r| r.iter().any(|c| c == "状态"))
        .expect("a header row");
    let col = |name: &str| {
        rows[head]
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let (id, status, points) = (col("编号"), col("状态"), col("扣分"));
    let of = |rid: i64| {
        rows.iter()
            .find(|r| r[id] == rid.to_string())
            .unwrap_or_else(|| panic!("record #{rid}"))
            .clone()
    };
    assert_eq!(of(a.id)[status], "已改判", "a record replaced on appeal");
    assert_eq!(of(changed.id)[status], "已确认");
    assert_eq!(of(b.id)[status], "待确认");
    assert_eq!(of(a.id)[points], "0.4", "2 × 0.2 as the rule gives it");
    assert!(
        rows.iter().all(|r| !r.iter().any(|c| c == "有效")),
        "no state is called 有效"
    );
}
