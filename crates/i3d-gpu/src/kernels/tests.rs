//! Every WGSL variant parses and validates with naga (no GPU needed), and every [`WgslKernel`]
//! agrees with its WGSL: parameter block size, bindings, workgroup size.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use naga::valid::{Capabilities, ValidationFlags, Validator};

use super::{AvgPool3d, Conv3d, Kernel, KernelId, MaxPool3d, Precision, WgslKernel};

fn parse(id: &KernelId) -> naga::Module {
    let source = id.source();
    naga::front::wgsl::parse_str(&source)
        .unwrap_or_else(|e| panic!("{}: {}", id.label(), e.emit_to_string(&source)))
}

fn scalar_f32(kernel: Kernel) -> naga::Module {
    parse(&KernelId {
        kernel,
        precision: Precision::F32,
        width: 1,
    })
}

/// The members (name, byte offset) and size of the named struct of `module`.
fn struct_layout(module: &naga::Module, name: &str) -> (Vec<(String, u32)>, u32) {
    let (_, ty) = module
        .types
        .iter()
        .find(|(_, ty)| ty.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no struct {name}"));
    match &ty.inner {
        naga::TypeInner::Struct { members, span } => (
            members
                .iter()
                .map(|m| (m.name.clone().unwrap_or_default(), m.offset))
                .collect(),
            *span,
        ),
        other => panic!("{name} is not a struct: {other:?}"),
    }
}

#[test]
fn every_kernel_variant_validates_with_naga() {
    let ids = KernelId::all();
    assert_eq!(ids.len(), 16);
    for id in ids {
        assert!(id.is_built());
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
    let module = parse(&KernelId::of::<Conv3d>(Precision::F16, 4));
    assert!(
        Validator::new(ValidationFlags::all(), Capabilities::empty())
            .validate(&module)
            .is_err()
    );
}

#[test]
fn parameter_blocks_match_their_wgsl_structs() {
    for kernel in Kernel::ALL {
        let module = scalar_f32(kernel);
        let mut layouter = naga::proc::Layouter::default();
        layouter.update(module.to_ctx()).unwrap();
        let (handle, _) = module
            .types
            .iter()
            .find(|(_, ty)| ty.name.as_deref() == Some(kernel.params_struct()))
            .unwrap_or_else(|| panic!("{kernel}: no struct {}", kernel.params_struct()));
        assert_eq!(
            layouter[handle].size as usize,
            kernel.params_size(),
            "{kernel}: {}",
            kernel.params_struct()
        );
    }
}

#[test]
fn bindings_and_workgroup_size_match_the_wgsl() {
    for kernel in Kernel::ALL {
        let module = scalar_f32(kernel);
        let mut bound: Vec<(u32, String, bool)> = module
            .global_variables
            .iter()
            .filter_map(|(_, var)| {
                let binding = var.binding.as_ref()?;
                assert_eq!(binding.group, 0, "{kernel}");
                let uniform = var.space == naga::AddressSpace::Uniform;
                Some((
                    binding.binding,
                    var.name.clone().unwrap_or_default(),
                    uniform,
                ))
            })
            .collect();
        bound.sort();
        let (params, storage) = bound.split_first().unwrap();
        assert_eq!(params.0, 0, "{kernel}: binding 0");
        assert!(params.2, "{kernel}: binding 0 is not the uniform block");
        let names: Vec<&str> = storage.iter().map(|(_, name, _)| name.as_str()).collect();
        assert_eq!(names, kernel.bindings(), "{kernel}: storage bindings");
        let numbers: Vec<u32> = storage.iter().map(|(b, _, _)| *b).collect();
        let expected: Vec<u32> = (1..).take(kernel.bindings().len()).collect();
        assert_eq!(numbers, expected, "{kernel}: binding numbers");
        let main = module
            .entry_points
            .iter()
            .find(|e| e.name == "main")
            .unwrap();
        assert_eq!(
            main.workgroup_size,
            [kernel.workgroup_size(), 1, 1],
            "{kernel}: @workgroup_size"
        );
    }
}

#[test]
fn both_pools_read_the_one_parameter_struct_of_common_wgsl() {
    assert_eq!(MaxPool3d::PARAMS_STRUCT, AvgPool3d::PARAMS_STRUCT);
    let max = struct_layout(
        &scalar_f32(Kernel::of::<MaxPool3d>()),
        MaxPool3d::PARAMS_STRUCT,
    );
    let avg = struct_layout(
        &scalar_f32(Kernel::of::<AvgPool3d>()),
        AvgPool3d::PARAMS_STRUCT,
    );
    assert_eq!(max, avg);
    assert_eq!(max.1 as usize, size_of::<super::PoolParams>());
}

#[test]
fn kernel_ids_are_keyed_by_name_precision_and_width() {
    let a = KernelId::of::<Conv3d>(Precision::F32, 4);
    assert_eq!(a, Kernel::ALL[0].id(Precision::F32, 4));
    assert_ne!(a, KernelId::of::<Conv3d>(Precision::F16, 4));
    assert_ne!(a, KernelId::of::<Conv3d>(Precision::F32, 1));
    assert_ne!(a.kernel, Kernel::of::<MaxPool3d>());
    assert!(a.kernel.is::<Conv3d>() && !a.kernel.is::<AvgPool3d>());
    assert_eq!(a.label(), "conv3d.f32.vec4");
    assert_eq!(format!("{:?}", a.kernel), "conv3d");
    assert!(!KernelId::of::<super::Logits>(Precision::F32, 4).is_built());
}

/// A kernel written but left out of [`Kernel::ALL`].
#[cfg(not(target_arch = "wasm32"))]
struct Unlisted;

#[cfg(not(target_arch = "wasm32"))]
impl WgslKernel for Unlisted {
    const NAME: &'static str = "unlisted";
    const SOURCE: &'static str = "";
    const WIDTHS: &'static [u32] = &[1];
    const WORKGROUP_SIZE: u32 = 64;
    const BINDINGS: &'static [&'static str] = &[];
    type Params = super::GemmParams;
    const PARAMS_STRUCT: &'static str = "GemmParams";
}

/// The registry cannot be missed: `Kernel::of::<Unlisted>()` (the only way to a `KernelId`, hence
/// to a pipeline) fails to build (a constant evaluated when `of` is instantiated: `cargo build` and
/// `cargo test` see it, `cargo check` does not), by the check below; and every WGSL kernel file of
/// this folder is in the registry the naga tests above walk.
#[test]
#[cfg(not(target_arch = "wasm32"))]
fn every_kernel_is_in_the_registry_its_checks_walk() {
    // `let _ = Kernel::of::<Unlisted>();` here stops the test build: "a WgslKernel must be listed in
    // Kernel::ALL, where its checks find it".
    assert!(!Kernel::is_registered::<Unlisted>());
    assert!(Kernel::is_registered::<Conv3d>() && Kernel::is_registered::<super::Gemm>());
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/kernels");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "wgsl"))
        .filter_map(|path| Some(path.file_stem()?.to_str()?.to_owned()))
        .filter(|stem| stem != "common")
        .collect();
    files.sort();
    let mut listed: Vec<String> = Kernel::ALL.iter().map(|k| k.name().to_owned()).collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "every kernel file must be a WgslKernel in Kernel::ALL"
    );
    // And every listed kernel's source is its file.
    for kernel in Kernel::ALL {
        let file = std::fs::read_to_string(format!("{dir}/{}.wgsl", kernel.name())).unwrap();
        assert_eq!(file, kernel.source(), "{kernel}");
    }
}
