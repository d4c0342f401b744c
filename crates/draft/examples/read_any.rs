//! Prints the document a file reads as (title, rows, notes): for looking at a reader's result.
//! `cargo run -p lvzhi-draft --example read_any -- FILE`

fn main() {
    let path = std::env::args().nth(1).expect("a file");
    let bytes = std::fs::read(&path).expect("readable");
    match lvzhi_draft::read_document(&bytes) {
        Ok(doc) => {
            println!("标题：{}", doc.title);
            for r in &doc.rows {
                println!("[{}|{}|{}|{}]\n{}\n", r.seq, r.item, r.sub, r.max, r.detail);
            }
            println!("备注：{}", doc.notes);
        }
        Err(e) => println!("{e}"),
    }
}
