//! The `dma` binary: parses the command line and hands over to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    match dma::cli::run(dma::cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dma: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
