//! Downloading the official annotation files, with a progress bar.

use super::*;

/// Downloads with a progress bar; after the first connection failure it gives up on the network.
pub(super) struct Downloader {
    agent: ureq::Agent,
    reachable: bool,
}

impl Downloader {
    pub(super) fn new() -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_resolve(Some(CONNECT_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_per_read(Some(Duration::from_secs(60)))
            .build();
        Downloader {
            agent: config.into(),
            reachable: true,
        }
    }

    /// Downloads `url` to `path`; `Ok(false)` when it cannot (network unreachable, HTTP error), with a note.
    pub(super) fn fetch(&mut self, url: &str, path: &Path) -> Result<bool> {
        if !self.reachable {
            return Ok(false);
        }
        let mut response = match self.agent.get(url).call() {
            Ok(response) => response,
            Err(ureq::Error::StatusCode(status)) => {
                eprintln!("data: {url}: HTTP {status}, skipped");
                return Ok(false);
            }
            Err(error) => {
                eprintln!("data: {url}: {error}; not downloading (offline?)");
                self.reachable = false;
                return Ok(false);
            }
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let part = path.with_extension("part");
        let mut file =
            fs::File::create(&part).with_context(|| format!("cannot write {}", part.display()))?;
        let bar = match response.body().content_length() {
            Some(len) => indicatif::ProgressBar::new(len),
            None => indicatif::ProgressBar::no_length(),
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )?
            .progress_chars("=> "),
        );
        bar.set_message(url.to_owned());
        let mut reader = response.body_mut().as_reader();
        let mut buffer = vec![0_u8; 1 << 16];
        let result: Result<()> = loop {
            match reader.read(&mut buffer) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    file.write_all(&buffer[..n])?;
                    bar.inc(n as u64);
                }
                Err(error) => break Err(error.into()),
            }
        };
        bar.finish_and_clear();
        if let Err(error) = result {
            let _ = fs::remove_file(&part);
            eprintln!("data: {url}: download failed ({error}), skipped");
            return Ok(false);
        }
        drop(file);
        fs::rename(&part, path).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("data: downloaded {url}");
        Ok(true)
    }
}
