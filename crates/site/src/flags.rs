//! The compiler flags of what ships, beside the profiles of the workspace's `Cargo.toml` (`app-release` for the
//! app, `release` for the worker) and `.cargo/config.toml`'s wasm32 flags. `xtask` applies them with the toolchain
//! it found (`xtask/src/setup`).

/// rustflags of the threaded worker build: `.cargo/config.toml`'s wasm32 flags (an environment variable replaces
/// them, so they are repeated) plus WebAssembly threads: atomics and bulk memory, and a shared memory imported from
/// JavaScript (so that the pool's workers can share it), at most 2 GiB (a shared memory must declare its maximum;
/// the model needs ~0.5 GiB), with the exports wasm-bindgen's thread support needs.
pub const THREADED_RUSTFLAGS: &str =
    "-C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals \
    --cfg getrandom_backend=\"wasm_js\" \
    -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=2147483648 \
    -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
    -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base";

/// rustflags of the relaxed-SIMD flavour of the threaded worker ([`protocol::site::RELAXED_DIR`]):
/// [`THREADED_RUSTFLAGS`] plus `+relaxed-simd`, which gives the CPU executor's GEMM kernel `f32x4.relaxed_madd`
/// (one fused multiply-add where the CPU has FMA: 995 against 1425 ms per T = 16 clip at one thread, measured with
/// `cargo xtask bench-browser --layers` on this project's 2.3 GHz Xeon). A module with it does not validate in a
/// browser without relaxed SIMD, so the page starts it only where `WebAssembly.validate` accepts a relaxed op.
pub const RELAXED_THREADED_RUSTFLAGS: &str =
    "-C target-feature=+simd128,+relaxed-simd,+atomics,+bulk-memory,+mutable-globals \
    --cfg getrandom_backend=\"wasm_js\" \
    -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=2147483648 \
    -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
    -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base";

/// `.cargo/config.toml`'s wasm32 flags with relaxed SIMD, without threads: what `cargo xtask test` lints the CPU
/// kernels with, to cover the code only [`RELAXED_THREADED_RUSTFLAGS`] compiles (std needs no rebuild for it).
pub const RELAXED_SIMD_RUSTFLAGS: &str =
    "-C target-feature=+simd128,+relaxed-simd --cfg getrandom_backend=\"wasm_js\"";

/// rustflags of the app's profile (`app-release`): panics abort at once, without formatting a message. With std
/// rebuilt for size, that is what brings the explorer's wasm under [`crate::APP_WASM_BUDGET`] (1,319,204 →
/// 1,230,818 bytes after wasm-opt, measured on commit ade675b). A panic in the app is a bug either way: it stops
/// the page; the console then shows "unreachable" rather than the message.
pub const APP_RELEASE_RUSTFLAGS: &str = "-Zunstable-options -Cpanic=immediate-abort";

/// rustflags of the build scripts of the app's profile: a no-op flag of their own, since they run on the host,
/// with the host's prebuilt std, which does not have the app's panic strategy.
pub const APP_RELEASE_BUILD_OVERRIDE_RUSTFLAGS: &str = "-Cdebug-assertions=off";

/// `flags` on one line, as an environment variable takes them.
pub fn one_line(flags: &str) -> String {
    flags.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The relaxed-SIMD flavour's flags are the threaded build's with `+relaxed-simd`, nothing else.
    #[test]
    fn the_relaxed_flavour_differs_by_relaxed_simd_only() {
        assert_eq!(
            one_line(RELAXED_THREADED_RUSTFLAGS),
            one_line(THREADED_RUSTFLAGS).replacen("+simd128,", "+simd128,+relaxed-simd,", 1)
        );
        assert!(one_line(RELAXED_SIMD_RUSTFLAGS).contains("+simd128,+relaxed-simd "));
    }
}
