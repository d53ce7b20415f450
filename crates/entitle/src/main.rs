use clap::Parser;
use entitle::cli::{Cli, execute};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    entitle::telemetry::init(cli.global.log_format);
    match execute(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
