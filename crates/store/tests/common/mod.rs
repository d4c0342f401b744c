//! What the store's tests share: a fresh store on each available backend (SQLite always,
//! PostgreSQL when `LVZHI_TEST_POSTGRES_URL` names a server; under `CI=true` a missing PostgreSQL is
//! a failure, never a skip).

#![allow(dead_code)] // each test file uses its part

use lvzhi_store::Store;
use sqlx::Executor;

/// A fresh store on each available backend, with a label.
pub async fn backends() -> Vec<(&'static str, Store, Option<tempfile::TempDir>)> {
    let mut out = Vec::new();
    for (name, url, dir) in databases().await {
        let store = Store::open(&url).await.expect("store");
        out.push((name, store, dir));
    }
    out
}

/// A fresh database on each available backend: its label and URL (so that a test can open it from
/// several instances), and the folder that holds a SQLite one.
pub async fn databases() -> Vec<(&'static str, String, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("tmp");
    let mut out = vec![("sqlite", Store::sqlite_url(dir.path()), Some(dir))];
    match std::env::var("LVZHI_TEST_POSTGRES_URL") {
        Ok(admin) => {
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&admin)
                .await
                .expect("connect to PostgreSQL");
            let name = format!(
                "lvzhi_t_{}",
                lvzhi_store::generate_password()
                    .to_ascii_lowercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "")
            );
            pool.execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create database");
            let url = match admin.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => panic!("LVZHI_TEST_POSTGRES_URL must end with /DATABASE"),
            };
            out.push(("postgres", url, None));
        }
        Err(std::env::VarError::NotPresent | std::env::VarError::NotUnicode(_))
            if std::env::var("CI").is_ok_and(|v| v == "true") =>
        {
            panic!(
                "CI=true but LVZHI_TEST_POSTGRES_URL is not set: the PostgreSQL half of the story cannot be skipped in CI"
            )
        }
        Err(std::env::VarError::NotPresent | std::env::VarError::NotUnicode(_)) => eprintln!(
            "\n*** WARNING: LVZHI_TEST_POSTGRES_URL is not set: the store story ran on SQLite ONLY. \
             Run `export LVZHI_TEST_POSTGRES_URL=$(scripts/postgres)` to test PostgreSQL too. ***\n"
        ),
    }
    out
}
