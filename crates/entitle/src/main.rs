use clap::Parser;
use entitle::cli::{Cli, execute};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let logs = entitle::telemetry::init(cli.global.log_format);
    let outcome = execute(cli).await;
    // The log lines come out before the final word.
    drop(logs);
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
