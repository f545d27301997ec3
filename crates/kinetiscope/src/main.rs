//! `kinetiscope`: the command line of Kinetiscope.
//!
//! - `kinetiscope data stats FILE... [--json]`, `kinetiscope data search QUERY`: Kinetics annotations.
//! - `kinetiscope classify INPUT [--backend cpu] [--top K] [--frames N] [--json]`: I3D action classification.
//! - `kinetiscope bench [--frames 16|32|64] [--threads N]`: I3D speed and memory.

mod bench;
mod classify;
mod data;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Human action recognition with I3D, and the Kinetics datasets it was trained on.
#[derive(Debug, Parser)]
#[command(name = "kinetiscope", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Kinetics annotation files: statistics and class search.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Classify a video, a GIF or a preprocessed `.safetensors` clip with I3D.
    Classify(classify::ClassifyArgs),
    /// Measure I3D inference speed and memory.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Data(command) => data::run(command),
        Command::Classify(args) => classify::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
