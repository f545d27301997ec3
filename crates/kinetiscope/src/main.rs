//! `kinetiscope`: the command line of Kinetiscope.
//!
//! - `kinetiscope data stats FILE... [--json]`, `kinetiscope data search QUERY`: Kinetics annotations.
//! - `kinetiscope classify INPUT [--backend cpu] [--top K] [--frames N] [--json]`: I3D action classification.
//! - `kinetiscope bench [--frames 16|32|64] [--threads N] [--layers]`: I3D speed and memory (per layer:
//!   effective GFLOP/s).
//! - `kinetiscope features VIDEO… --out FILE`, `kinetiscope train DIR --out HEAD`, `classify --head HEAD`: few-shot
//!   heads on I3D's clip features.

mod bench;
mod classify;
mod custom;
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
    /// Write the clip features (I3D's 1024 Mixed_5c values) of videos' windows.
    Features(custom::FeaturesArgs),
    /// Train a few-shot head on a folder of videos per class, print its cross-validated accuracy per class.
    Train(custom::TrainArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Data(command) => data::run(command),
        Command::Classify(args) => classify::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Features(args) => custom::features(args),
        Command::Train(args) => custom::train(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
