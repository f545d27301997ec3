//! `kinetiscope bench`: I3D inference speed and memory.

/// Arguments of `kinetiscope bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}

/// Runs `kinetiscope bench`.
pub fn run(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("bench is not implemented yet")
}
