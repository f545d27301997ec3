//! Every WGSL variant parses and validates with naga (no GPU needed), and every parameter block
//! has the same size in Rust and in WGSL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use naga::valid::{Capabilities, ValidationFlags, Validator};

use super::{Kernel, KernelId, Precision};

fn parse(id: &KernelId) -> naga::Module {
    let source = id.source();
    naga::front::wgsl::parse_str(&source)
        .unwrap_or_else(|e| panic!("{}: {}", id.label(), e.emit_to_string(&source)))
}

#[test]
fn every_kernel_variant_validates_with_naga() {
    let ids = KernelId::all();
    assert_eq!(ids.len(), 16);
    for id in ids {
        let module = parse(&id);
        let capabilities = match id.precision {
            Precision::F32 => Capabilities::empty(),
            Precision::F16 => Capabilities::SHADER_FLOAT16,
        };
        Validator::new(ValidationFlags::all(), capabilities)
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {}", id.label(), e.emit_to_string(&id.source())));
        assert!(
            module.entry_points.iter().any(|e| e.name == "main"),
            "{} has no `main`",
            id.label()
        );
    }
}

#[test]
fn f16_variants_need_the_f16_capability() {
    let id = KernelId {
        kernel: Kernel::Conv3d,
        precision: Precision::F16,
        width: 4,
    };
    let module = parse(&id);
    assert!(
        Validator::new(ValidationFlags::all(), Capabilities::empty())
            .validate(&module)
            .is_err()
    );
}

#[test]
fn parameter_blocks_match_their_wgsl_structs() {
    for kernel in Kernel::ALL {
        let id = KernelId {
            kernel,
            precision: Precision::F32,
            width: 1,
        };
        let module = parse(&id);
        let mut layouter = naga::proc::Layouter::default();
        layouter.update(module.to_ctx()).unwrap();
        let (handle, _) = module
            .types
            .iter()
            .find(|(_, ty)| ty.name.as_deref() == Some(kernel.params_struct()))
            .unwrap_or_else(|| panic!("{}: no struct {}", kernel.name(), kernel.params_struct()));
        assert_eq!(
            layouter[handle].size as usize,
            kernel.params_size(),
            "{}",
            kernel.params_struct()
        );
    }
}
