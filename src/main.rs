//! The `dma` binary: parses the command line and hands over to the library.

use clap::Parser;

/// jemalloc, with background threads that give freed pages back to the system (after about ten
/// seconds unused): a national analysis is hundreds of megabytes built on whichever worker thread
/// computes it, and the system allocator kept that memory in per-thread arenas after it was freed.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    match dma::cli::run(dma::cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dma: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
