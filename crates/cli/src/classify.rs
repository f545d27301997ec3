//! `kinetiscope classify`: I3D action classification of a clip.

/// Arguments of `kinetiscope classify`.
#[derive(Debug, clap::Args)]
pub struct ClassifyArgs {}

/// Runs `kinetiscope classify`.
pub fn run(_args: ClassifyArgs) -> anyhow::Result<()> {
    anyhow::bail!("classify is not implemented yet")
}
