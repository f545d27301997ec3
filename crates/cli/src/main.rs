//! `kinetiscope`: the command line.
fn main() {}
