//! Test support of the candle executor's tests, shared by the native and the browser test binaries.
#![allow(dead_code)]

pub mod parity;
