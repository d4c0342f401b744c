//! A table's header row read for what each column holds (序号, the item, a second level, the
//! maximum, the scoring text), whatever the reader it came from. It must not read files or propose
//! rules.

use crate::Row;

/// What a header cell says its column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Column {
    Seq,
    Item,
    Sub,
    Max,
    Detail,
    Remark,
}

/// A header cell's meaning, from the words tables of 细则 use.
pub(crate) fn column_of(head: &str) -> Option<Column> {
    let h: String = head.chars().filter(|c| !c.is_whitespace()).collect();
    Some(match h.as_str() {
        "序号" | "编号" => Column::Seq,
        "二级指标" | "考核要点" | "考核细项" => Column::Sub,
        "分值" | "标准分" | "分数" | "分值（分）" | "分值(分)" | "权重" => {
            Column::Max
        }
        "备注" => Column::Remark,
        _ if h.contains("细则") || h.contains("评分") || h.contains("标准") => Column::Detail,
        "监测指标项目" | "考核项目" | "一级指标" | "考核指标" | "项目" | "考核内容" | "指标" => {
            Column::Item
        }
        _ => return None,
    })
}

/// The rows of a table read by its header row (the first row with at least two known headings);
/// `None` when no such row is found. A first-level cell merged over several rows is empty in the
/// rows after its first: those rows continue its category.
pub(crate) fn rows_by_header(table: &[Vec<String>]) -> Option<Vec<Row>> {
    let (at, columns) = table.iter().enumerate().find_map(|(i, r)| {
        let cols: Vec<Option<Column>> = r.iter().map(|c| column_of(c)).collect();
        (cols.iter().flatten().count() >= 2).then_some((i, cols))
    })?;
    let mut columns = columns;
    // 考核内容 beside a separate scoring column names the item; alone, it is the scoring text.
    if !columns.contains(&Some(Column::Detail))
        && let Some(c) = columns.iter_mut().rev().find(|c| **c == Some(Column::Item))
    {
        *c = Some(Column::Detail);
    }
    let get = |r: &[String], want: Column| -> String {
        columns
            .iter()
            .zip(r)
            .filter(|(c, _)| **c == Some(want))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut rows = Vec::new();
    for r in &table[at + 1..] {
        let row = Row {
            seq: get(r, Column::Seq),
            item: get(r, Column::Item),
            sub: get(r, Column::Sub),
            max: get(r, Column::Max),
            detail: get(r, Column::Detail),
        };
        let remark = get(r, Column::Remark);
        if row.item.is_empty() && row.sub.is_empty() && row.detail.is_empty() {
            continue;
        }
        let mut row = row;
        if !remark.is_empty() {
            row.detail = format!("{}\n{remark}", row.detail);
        }
        rows.push(row);
    }
    Some(rows)
}
