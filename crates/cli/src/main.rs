//! `lvzhi`: the command line of 履职监测. Glue only: it reads files, hands their text to
//! lvzhi-office and lvzhi-core, and prints what they return. No rule of the rubric is decided here.
//!
//! Exit codes: 0 success, 1 refused input (every problem printed to stderr, nothing to stdout),
//! 2 wrong usage.

mod score_cmd;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "lvzhi",
    version,
    about = "履职监测：安委会成员单位安全生产监管履职指标监测"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 按细则计算各成员单位得分（CSV 输入）
    Score(score_cmd::ScoreArgs),
    /// 细则文件：检查或查看
    Rubric {
        #[command(subcommand)]
        command: RubricCommand,
    },
}

#[derive(Subcommand)]
enum RubricCommand {
    /// 检查细则文件，列出全部问题（行号与键）
    Check { file: PathBuf },
    /// 显示细则的方面、节、条款与分值
    Show {
        /// 年度（内置细则，如 2022）或细则文件路径
        #[arg(default_value = "2022")]
        rubric: String,
        /// 以 JSON 输出
        #[arg(long)]
        json: bool,
    },
}

/// A failure to report to the user: what to print and the exit code.
pub struct Refusal {
    pub message: String,
    pub code: u8,
}

impl Refusal {
    pub fn input(message: impl Into<String>) -> Self {
        Refusal {
            message: message.into(),
            code: 1,
        }
    }
}

impl From<anyhow::Error> for Refusal {
    fn from(e: anyhow::Error) -> Self {
        Refusal::input(format!("错误：{e:#}"))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Score(args) => score_cmd::run(&args),
        Command::Rubric { command } => match command {
            RubricCommand::Check { file } => score_cmd::rubric_check(&file),
            RubricCommand::Show { rubric, json } => score_cmd::rubric_show(&rubric, json),
        },
    };
    match result {
        Ok(out) => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            if stdout.write_all(out.as_bytes()).is_err() {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(r) => {
            eprintln!("{}", r.message);
            ExitCode::from(r.code)
        }
    }
}
