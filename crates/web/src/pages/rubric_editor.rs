//! The 细则 review form: a draft's items (from `lvzhi_draft::review`) laid out for a clerk, each
//! loader message placed at the field or item it concerns, and the clerk's answers read from the
//! posted form into edits. The draft and the core decide; this room only arranges and reads forms.

use std::collections::HashMap;

use lvzhi_core::Rubric;
use lvzhi_core::rubric::RuleKind;
use lvzhi_draft::review::{self, Edit, Item};
use serde_json::{Value, json};

/// The posted form: the draft it was made from, and the clerk's answers (`set:PATH`, `accept:PATH`,
/// `drop:PATH`). With `mode=text` the `toml` field is the text as edited and there are no answers.
pub struct Posted {
    pub toml: String,
    pub text_mode: bool,
    pub edits: Vec<Edit>,
}

impl Posted {
    pub fn read(fields: Vec<(String, String)>) -> Posted {
        let mut p = Posted {
            toml: String::new(),
            text_mode: false,
            edits: Vec::new(),
        };
        for (name, value) in fields {
            if name == "toml" {
                p.toml = value;
            } else if name == "mode" {
                p.text_mode = value == "text";
            } else if let Some(path) = name.strip_prefix("set:") {
                p.edits.push(Edit::Set {
                    path: path.to_owned(),
                    value,
                });
            } else if let Some(path) = name.strip_prefix("accept:") {
                p.edits.push(Edit::Accept {
                    path: path.to_owned(),
                });
            } else if let Some(path) = name.strip_prefix("drop:") {
                p.edits.push(Edit::Drop {
                    path: path.to_owned(),
                });
            }
        }
        p
    }

    /// The draft with the answers applied (the text itself in text mode).
    pub fn text(&self) -> Result<String, review::ReviewError> {
        if self.text_mode {
            Ok(self.toml.clone())
        } else {
            review::apply(&self.toml, &self.edits)
        }
    }
}

/// The editor's context: the document's rows (first drafted only), the TOML, its items with every
/// loader message at its field, the questions left and a summary; `problem` when the answers
/// could not be applied.
pub fn context(rows: &[lvzhi_draft::Row], toml: &str, problem: Option<&str>) -> Value {
    let loaded = Rubric::from_toml(toml);
    let (errors, questions) = match &loaded {
        Err(e) => (e.0.clone(), 0),
        Ok(r) => (Vec::new(), r.review.len()),
    };
    let (items, general) = match review::items(toml) {
        Ok(items) => place(items, &errors),
        Err(e) => (Vec::new(), vec![e.to_string()]),
    };
    let summary = loaded.as_ref().ok().map(|r| {
        format!(
            "{}（{} 年）：{} 个方面，{} 个小节，{} 条条款，名册 {} 个单位，总分 {}",
            r.title,
            r.year,
            r.categories.len(),
            r.sections.len(),
            r.rules.len(),
            r.roster.len(),
            r.total
        )
    });
    json!({
        "rows": rows.iter().map(|r| json!({"seq": r.seq, "item": r.item, "sub": r.sub, "max": r.max, "detail": r.detail})).collect::<Vec<_>>(),
        "toml": toml,
        "items": items,
        "kinds": RuleKind::KINDS.iter().map(|(code, label)| json!({"code": code, "label": label})).collect::<Vec<_>>(),
        "check": {
            "ok": errors.is_empty() && questions == 0 && general.is_empty(),
            "errors": errors.len() + general.len(),
            "general": general,
            "questions": questions,
            "summary": summary,
        },
        "problem": problem,
    })
}

/// Each loader message at the field it names, else at the item that holds that key, else general
/// (said with the item's label, never the key).
fn place(
    items: Vec<Item>,
    errors: &[lvzhi_core::rubric::RubricError],
) -> (Vec<Value>, Vec<String>) {
    let mut at_field: HashMap<String, String> = HashMap::new();
    let mut at_item: HashMap<String, Vec<String>> = HashMap::new();
    let mut general = Vec::new();
    for e in errors {
        let path = review::field_path(&e.key);
        if items
            .iter()
            .any(|i| i.fields.iter().any(|f| f.path == path))
        {
            at_field.insert(path, e.message.clone());
        } else if let Some(i) = items
            .iter()
            .filter(|i| path.starts_with(&format!("{}.", i.path)))
            .max_by_key(|i| i.path.len())
        {
            at_item
                .entry(i.path.clone())
                .or_default()
                .push(e.message.clone());
        } else {
            general.push(e.message.clone());
        }
    }
    let items = items
        .into_iter()
        .map(|i| {
            let mut v = serde_json::to_value(&i).unwrap_or_default();
            for f in v["fields"].as_array_mut().into_iter().flatten() {
                if let Some(m) = f["path"].as_str().and_then(|p| at_field.get(p)) {
                    f["error"] = json!(m);
                }
            }
            v["errors"] = json!(at_item.get(&i.path).cloned().unwrap_or_default());
            v
        })
        .collect();
    (items, general)
}
