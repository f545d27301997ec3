//! The model the page's address asks for: `?backend=`, `?precision=`, `?threads=` ([`requested_model`]).

use protocol::{BackendChoice, PrecisionChoice};

#[cfg(doc)]
use super::plan::DEFAULT_MAX_THREADS;
use super::plan::MAX_THREADS;

/// What the address asks of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelRequest {
    /// `?backend=`.
    pub backend: BackendChoice,
    /// `?precision=`.
    pub precision: PrecisionChoice,
    /// `?threads=`: CPU threads (1..=[`MAX_THREADS`]); `None`: as many as the device has, up to
    /// [`DEFAULT_MAX_THREADS`].
    pub threads: Option<u32>,
}

/// The model the address asks for: `?backend=` (`auto` when absent, `cpu`, `wgpu`, or `webgpu` for
/// `wgpu`), `?precision=` (`auto` when absent, `f32`, `f16`) and `?threads=` (1 to [`MAX_THREADS`]).
/// An unknown value is an error saying which values exist.
pub fn requested_model(
    backend: Option<&str>,
    precision: Option<&str>,
    threads: Option<&str>,
) -> Result<ModelRequest, String> {
    let backend = match backend {
        None | Some("") => BackendChoice::Auto,
        Some(text) => text.parse().map_err(|_| {
            let text = shown(text);
            format!(
                "The address asks for the backend “{text}”, which does not exist: use ?backend=auto, ?backend=cpu or ?backend=wgpu (webgpu also works), or leave it out."
            )
        })?,
    };
    let precision = match precision {
        None | Some("") => PrecisionChoice::Auto,
        Some(text) => text.parse().map_err(|_| {
            let text = shown(text);
            format!(
                "The address asks for the precision “{text}”, which does not exist: use ?precision=auto, ?precision=f32 or ?precision=f16, or leave it out."
            )
        })?,
    };
    let threads = match threads {
        None | Some("") => None,
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=MAX_THREADS).contains(&n) => Some(n),
            _ => {
                let text = shown(text);
                return Err(format!(
                    "The address asks for “{text}” threads: use ?threads= with a number from 1 to {MAX_THREADS}, or leave it out."
                ));
            }
        },
    };
    Ok(ModelRequest {
        backend,
        precision,
        threads,
    })
}

/// The most characters of a value from the address that a message repeats.
const SHOWN_CHARS: usize = 40;

/// `text` from the address as a message repeats it: at most [`SHOWN_CHARS`] characters, then "…" (an address
/// can carry megabytes).
fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use protocol::{Backend, Precision};

    fn request(backend: BackendChoice, precision: PrecisionChoice) -> ModelRequest {
        ModelRequest {
            backend,
            precision,
            threads: None,
        }
    }

    #[test]
    fn the_address_names_a_backend_a_precision_and_threads() {
        assert_eq!(
            requested_model(None, None, None),
            Ok(request(BackendChoice::Auto, PrecisionChoice::Auto))
        );
        assert_eq!(
            requested_model(Some("webgpu"), Some("f16"), None),
            Ok(request(
                BackendChoice::Only(Backend::Wgpu),
                PrecisionChoice::Only(Precision::F16)
            ))
        );
        assert_eq!(
            requested_model(Some("cpu"), Some("auto"), Some("2")),
            Ok(ModelRequest {
                threads: Some(2),
                ..request(BackendChoice::Only(Backend::Cpu), PrecisionChoice::Auto)
            })
        );
        let err = requested_model(Some("gpu"), None, None).unwrap_err();
        assert!(
            err.contains("“gpu”") && err.contains("?backend=wgpu"),
            "{err}"
        );
        let err = requested_model(None, Some("bf16"), None).unwrap_err();
        assert!(err.contains("?precision=f32"), "{err}");
        for bad in ["0", "17", "two", "-1"] {
            let err = requested_model(None, None, Some(bad)).unwrap_err();
            assert!(err.contains("from 1 to 16"), "{bad}: {err}");
        }
        // A value of any length is repeated in 40 characters at most.
        let long = "é".repeat(100_000);
        for err in [
            requested_model(Some(&long), None, None),
            requested_model(None, Some(&long), None),
            requested_model(None, None, Some(&long)),
        ] {
            let err = err.unwrap_err();
            assert!(err.contains(&format!("“{}…”", "é".repeat(40))), "{err}");
            assert!(
                err.chars().count() < 400,
                "{} characters",
                err.chars().count()
            );
        }
    }
}
