//! `kinetiscope data`: statistics and search over Kinetics annotation files.

/// Subcommands of `kinetiscope data`.
#[derive(Debug, clap::Subcommand)]
pub enum DataCommand {}

/// Runs a `kinetiscope data` subcommand.
pub fn run(command: DataCommand) -> anyhow::Result<()> {
    match command {}
}
