#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// Assembles pickles opcode by opcode.
#[derive(Default)]
struct P(Vec<u8>);

impl P {
    fn new() -> Self {
        // PROTO 4, then a FRAME whose length is not checked (as in the real file).
        let mut p = P(vec![0x80, 4, 0x95]);
        p.0.extend_from_slice(&0u64.to_le_bytes());
        p
    }
    fn op(mut self, code: u8) -> Self {
        self.0.push(code);
        self
    }
    fn bytes(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
    fn str(self, s: &str) -> Self {
        self.op(0x8c).bytes(&[s.len() as u8]).bytes(s.as_bytes())
    }
    fn int1(self, v: u8) -> Self {
        self.op(b'K').bytes(&[v])
    }
    fn stop(self) -> Vec<u8> {
        self.op(b'.').0
    }
}

fn load_ok(bytes: &[u8]) -> Value<'_> {
    load(bytes).unwrap_or_else(|e| panic!("{e}"))
}

fn tuple<'v, 'a>(v: &'v Value<'a>) -> &'v [Value<'a>] {
    match v {
        Value::Tuple(t) => t,
        other => panic!("expected tuple, got {}", other.kind()),
    }
}

fn as_int(v: &Value<'_>) -> i64 {
    match v {
        Value::Int(i) => *i,
        other => panic!("expected int, got {}", other.kind()),
    }
}

fn as_str(v: &Value<'_>) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        other => panic!("expected str, got {}", other.kind()),
    }
}

fn dict_entries(v: &Value<'_>) -> Vec<(String, String)> {
    match v {
        Value::Dict(d) => d
            .borrow()
            .iter()
            .map(|(k, v)| (as_str(k), format!("{v:?}")))
            .collect(),
        other => panic!("expected dict, got {}", other.kind()),
    }
}

#[test]
fn scalars_none_bools_ints() {
    // (None, True, False, 7, 300, -1, 2147483647): NONE NEWTRUE NEWFALSE BININT1 BININT2 BININT
    let p = P::new()
        .op(b'(')
        .op(b'N')
        .op(0x88)
        .op(0x89)
        .int1(7)
        .op(b'M')
        .bytes(&300u16.to_le_bytes())
        .op(b'J')
        .bytes(&(-1i32).to_le_bytes())
        .op(b'J')
        .bytes(&i32::MAX.to_le_bytes())
        .op(b't')
        .stop();
    let v = load_ok(&p);
    let t = tuple(&v);
    assert!(matches!(t[0], Value::None));
    assert!(matches!(t[1], Value::Bool(true)));
    assert!(matches!(t[2], Value::Bool(false)));
    assert_eq!(as_int(&t[3]), 7);
    assert_eq!(as_int(&t[4]), 300);
    assert_eq!(as_int(&t[5]), -1);
    assert_eq!(as_int(&t[6]), i64::from(i32::MAX));
}

#[test]
fn strings_and_bytes_borrow_from_input() {
    let big = vec![0xabu8; 300];
    let p = P::new()
        .str("héllo")
        .op(b'C')
        .bytes(&[3, 1, 2, 3])
        .op(b'B')
        .bytes(&(big.len() as u32).to_le_bytes())
        .bytes(&big)
        .op(0x87) // TUPLE3
        .stop();
    let v = load_ok(&p);
    let t = tuple(&v);
    assert_eq!(as_str(&t[0]), "héllo");
    match (&t[1], &t[2]) {
        (Value::Bytes(a), Value::Bytes(b)) => {
            assert_eq!(*a, &[1, 2, 3]);
            assert_eq!(b.len(), 300);
            // Zero-copy: the slice points into the input buffer.
            let range = p.as_ptr_range();
            assert!(range.contains(&b.as_ptr()));
        }
        _ => panic!("expected two bytes"),
    }
}

#[test]
fn tuple1_tuple3_and_empty_tuple_via_mark() {
    let p = P::new()
        .int1(1)
        .op(0x85) // TUPLE1
        .int1(2)
        .int1(3)
        .int1(4)
        .op(0x87) // TUPLE3
        .op(b'(')
        .op(b't') // ()
        .op(0x87)
        .stop();
    let v = load_ok(&p);
    let t = tuple(&v);
    assert_eq!(tuple(&t[0]).iter().map(as_int).collect::<Vec<_>>(), [1]);
    assert_eq!(
        tuple(&t[1]).iter().map(as_int).collect::<Vec<_>>(),
        [2, 3, 4]
    );
    assert!(tuple(&t[2]).is_empty());
}

#[test]
fn dicts_setitem_setitems_and_memo_sharing() {
    // d = {}; memo[0] = d; d['a'] = 1; d.update(b=2, a=3); (d, memo[0]) via BINGET and LONG_BINGET.
    let p = P::new()
        .op(b'}')
        .op(0x94) // MEMOIZE -> 0
        .str("a")
        .int1(1)
        .op(b's') // SETITEM
        .op(b'(')
        .str("b")
        .int1(2)
        .str("a")
        .int1(3)
        .op(b'u') // SETITEMS
        .op(b'h')
        .bytes(&[0]) // BINGET 0
        .op(b'j')
        .bytes(&0u32.to_le_bytes()) // LONG_BINGET 0
        .op(0x87)
        .stop();
    let v = load_ok(&p);
    let t = tuple(&v);
    let expect = vec![
        ("a".to_string(), "Int(3)".to_string()),
        ("b".to_string(), "Int(2)".to_string()),
    ];
    for d in t {
        assert_eq!(dict_entries(d), expect);
    }
    // All three are the same shared dict, as in Python.
    match (&t[0], &t[2]) {
        (Value::Dict(a), Value::Dict(b)) => assert!(Rc::ptr_eq(a, b)),
        _ => unreachable!(),
    }
}

#[test]
fn stack_global_reduce_build() {
    // numpy.dtype('f4', False, True) then BUILD (3, '<'): recorded, never executed.
    let p = P::new()
        .str("numpy")
        .str("dtype")
        .op(0x93) // STACK_GLOBAL
        .op(0x94)
        .str("f4")
        .op(0x89)
        .op(0x88)
        .op(0x87)
        .op(b'R') // REDUCE
        .op(0x94) // memo[1] = the object
        .int1(3)
        .str("<")
        .op(b'(')
        .op(b't')
        .op(0x87)
        .op(b'b') // BUILD
        .op(0x85)
        .op(b'h')
        .bytes(&[1]) // the memoised object sees its state
        .op(0x85)
        .op(b'(')
        .op(b't')
        .op(0x87)
        .stop();
    let v = load_ok(&p);
    let t = tuple(&v);
    let a = &tuple(&t[0])[0];
    let b = &tuple(&t[1])[0];
    let (Value::Object(a), Value::Object(b)) = (a, b) else {
        panic!("expected objects")
    };
    assert!(Rc::ptr_eq(a, b));
    let o = a.borrow();
    assert_eq!(o.callable.module, "numpy");
    assert_eq!(o.callable.name, "dtype");
    assert_eq!(as_str(&o.args[0]), "f4");
    let state = o.state.as_ref().unwrap();
    assert_eq!(as_int(&tuple(state)[0]), 3);
    assert_eq!(as_str(&tuple(state)[1]), "<");
}

#[test]
fn real_checkpoint_prefix_shape() {
    // The first bytes of i3d-kinetics-400.ckpt, closed off by hand: PROTO 4, FRAME, EMPTY_DICT,
    // MEMOIZE, MARK, SHORT_BINUNICODE 'params', MEMOIZE, EMPTY_DICT, MEMOIZE, SETITEMS, STOP.
    let mut p = vec![
        0x80, 4, 0x95, 192, 0, 0, 0, 0, 0, 0, 0, b'}', 0x94, b'(', 0x8c, 6,
    ];
    p.extend_from_slice(b"params");
    p.extend_from_slice(&[0x94, b'}', 0x94, b'u', b'.']);
    let v = load_ok(&p);
    assert_eq!(dict_entries(&v).len(), 1);
    assert_eq!(dict_entries(&v)[0].0, "params");
}

#[test]
fn unknown_opcodes_are_refused_with_name_and_offset() {
    // EMPTY_LIST at byte 11 (after PROTO and FRAME).
    let p = P::new().op(b']').stop();
    let e = load(&p).unwrap_err();
    assert_eq!(
        e,
        PickleError::UnsupportedOpcode {
            opcode: b']',
            name: "EMPTY_LIST",
            offset: 11
        }
    );
    assert_eq!(
        e.to_string(),
        "pickle opcode 0x5d (EMPTY_LIST) at byte 11 is not supported by this reader"
    );
    // GLOBAL (the text form that can name any callable) is refused too.
    let p = P::new().op(b'c').bytes(b"os\nsystem\n").stop();
    assert!(matches!(
        load(&p),
        Err(PickleError::UnsupportedOpcode {
            name: "GLOBAL",
            offset: 11,
            ..
        })
    ));
    // A byte that is no pickle opcode at all.
    let p = P::new().int1(1).op(0xff).stop();
    assert!(matches!(
        load(&p),
        Err(PickleError::UnsupportedOpcode {
            opcode: 0xff,
            name: "unknown",
            offset: 13
        })
    ));
}

#[test]
fn truncated_input_is_refused() {
    // BINBYTES announcing 100 bytes, 3 present.
    let mut p = P::new()
        .op(b'B')
        .bytes(&100u32.to_le_bytes())
        .bytes(&[1, 2, 3])
        .0;
    assert!(matches!(
        load(&p),
        Err(PickleError::Truncated {
            opcode: "BINBYTES",
            offset: 11,
            needed: 100,
            available: 3
        })
    ));
    // A complete value but no STOP.
    p = P::new().int1(5).0;
    assert!(matches!(
        load(&p),
        Err(PickleError::Truncated {
            needed: 1,
            available: 0,
            ..
        })
    ));
    // Cut inside an argument.
    p = P::new().op(b'J').bytes(&[1, 2]).0;
    assert!(matches!(
        load(&p),
        Err(PickleError::Truncated {
            opcode: "BININT",
            ..
        })
    ));
    // Empty input.
    assert!(matches!(load(&[]), Err(PickleError::Truncated { .. })));
}

#[test]
fn malformed_stacks_are_refused() {
    // SETITEM with nothing to set.
    let p = P::new().op(b'}').op(b's').stop();
    assert!(matches!(
        load(&p),
        Err(PickleError::StackUnderflow {
            opcode: "SETITEM",
            ..
        })
    ));
    // TUPLE without MARK.
    let p = P::new().int1(1).op(b't').stop();
    assert!(matches!(
        load(&p),
        Err(PickleError::NoMark {
            opcode: "TUPLE",
            ..
        })
    ));
    // Popping below a MARK is an underflow, as in CPython.
    let p = P::new().int1(1).op(b'(').op(0x85).stop();
    assert!(matches!(
        load(&p),
        Err(PickleError::StackUnderflow {
            opcode: "TUPLE1",
            ..
        })
    ));
    // BINGET of an unfilled memo slot.
    let p = P::new().op(b'h').bytes(&[4]).stop();
    assert!(matches!(
        load(&p),
        Err(PickleError::BadMemo {
            index: 4,
            len: 0,
            ..
        })
    ));
    // SETITEM on a tuple.
    let p = P::new().op(b'(').op(b't').int1(1).int1(2).op(b's').stop();
    assert!(matches!(
        load(&p),
        Err(PickleError::TypeMismatch {
            opcode: "SETITEM",
            expected: "dict",
            found: "tuple",
            ..
        })
    ));
    // REDUCE of something that is not a global.
    let p = P::new().int1(1).op(b'(').op(b't').op(b'R').stop();
    assert!(matches!(
        load(&p),
        Err(PickleError::TypeMismatch {
            opcode: "REDUCE",
            ..
        })
    ));
    // STOP with two values.
    let p = P::new().int1(1).int1(2).stop();
    assert!(matches!(
        load(&p),
        Err(PickleError::BadStop { depth: 2, .. })
    ));
    // Bytes after STOP.
    let mut p = P::new().int1(1).stop();
    p.push(0);
    assert!(matches!(
        load(&p),
        Err(PickleError::TrailingBytes { extra: 1, .. })
    ));
    // A future protocol.
    assert!(matches!(
        load(&[0x80, 6, b'N', b'.']),
        Err(PickleError::UnsupportedProtocol {
            version: 6,
            offset: 0
        })
    ));
    // Invalid UTF-8.
    let p = P::new().op(0x8c).bytes(&[2, 0xc3, 0x28]).stop();
    assert!(matches!(
        load(&p),
        Err(PickleError::InvalidUtf8 { offset: 11 })
    ));
}

/// `{'w': numpy array}` encoded exactly as numpy 1 pickles a float32 array (protocol 4), with
/// knobs to break it.
fn numpy_pickle(
    module: &str,
    dtype: &str,
    order: &str,
    fortran: bool,
    shape: &[u8],
    data: &[u8],
) -> Vec<u8> {
    let mut p = P::new()
        .op(b'}')
        .str("w")
        .str(module)
        .str("_reconstruct")
        .op(0x93);
    p = p
        .str("numpy")
        .str("ndarray")
        .op(0x93)
        .int1(0)
        .op(0x85)
        .op(b'C')
        .bytes(&[1, b'b'])
        .op(0x87)
        .op(b'R');
    p = p.op(b'(').int1(1).op(b'(');
    for &d in shape {
        p = p.int1(d);
    }
    p = p.op(b't');
    p = p
        .str("numpy")
        .str("dtype")
        .op(0x93)
        .str(dtype)
        .op(0x89)
        .op(0x88)
        .op(0x87)
        .op(b'R');
    p = p.op(b'(').int1(3).str(order).op(b'N').op(b'N').op(b'N');
    p = p
        .op(b'J')
        .bytes(&(-1i32).to_le_bytes())
        .op(b'J')
        .bytes(&(-1i32).to_le_bytes())
        .int1(0)
        .op(b't')
        .op(b'b');
    p = p.op(if fortran { 0x88 } else { 0x89 });
    p = p
        .op(b'B')
        .bytes(&(data.len() as u32).to_le_bytes())
        .bytes(data)
        .op(b't')
        .op(b'b');
    p.op(b's').stop()
}

#[test]
fn numpy_arrays_become_named_f32_arrays() {
    use crate::tree::{read_checkpoint, Node};
    let values = [1.5f32, -2.0, 0.25, 3.0, 1e-3, -7.5];
    let le: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let be: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
    for (module, order, data) in [
        ("numpy.core.multiarray", "<", &le),
        ("numpy._core.multiarray", "<", &le),
        ("numpy.core.multiarray", ">", &be),
    ] {
        let tree =
            read_checkpoint(&numpy_pickle(module, "f4", order, false, &[2, 3], data)).unwrap();
        let a = tree.get("w").and_then(Node::as_array).unwrap();
        assert_eq!(a.shape, [2, 3]);
        assert_eq!(a.data, values);
    }
    // Refused: another dtype, wrong byte count, Fortran order, a callable that is not numpy's.
    let bad = [
        numpy_pickle("numpy.core.multiarray", "f8", "<", false, &[2, 3], &le),
        numpy_pickle("numpy.core.multiarray", "f4", "<", false, &[2, 4], &le),
        numpy_pickle("numpy.core.multiarray", "f4", "<", true, &[2, 3], &le),
        numpy_pickle("os", "f4", "<", false, &[2, 3], &le),
    ];
    let messages: Vec<String> = bad
        .iter()
        .map(|p| read_checkpoint(p).unwrap_err().to_string())
        .collect();
    assert!(messages[0].contains("not 'f4'"), "{}", messages[0]);
    assert!(
        messages[1].contains("needs 32 bytes, found 24"),
        "{}",
        messages[1]
    );
    assert!(messages[2].contains("Fortran"), "{}", messages[2]);
    assert!(messages[3].contains("os._reconstruct"), "{}", messages[3]);
    for m in &messages {
        assert!(m.starts_with("checkpoint entry [\"w\"]"), "{m}");
    }
}

#[test]
fn a_dict_past_its_cap_is_refused_not_grown() {
    // MAX_DICT_LEN distinct keys fit; one more is refused with the opcode and offset.
    let build = |n: usize| {
        let mut p = P::new().op(op::EMPTY_DICT).op(op::MARK);
        for i in 0..n {
            p = p
                .op(op::BININT)
                .bytes(&(i as i32).to_le_bytes())
                .op(op::NONE);
        }
        p.op(op::SETITEMS).stop()
    };
    let full = build(MAX_DICT_LEN);
    match load_ok(&full) {
        Value::Dict(d) => assert_eq!(d.borrow().len(), MAX_DICT_LEN),
        other => panic!("expected a dict, got {}", other.kind()),
    }
    // A key already there is replaced in place, not counted again.
    let mut again = build(MAX_DICT_LEN);
    again.pop();
    let again = P(again)
        .op(op::BININT)
        .bytes(&0i32.to_le_bytes())
        .op(op::NEWTRUE)
        .op(op::SETITEM)
        .stop();
    assert!(load(&again).is_ok());
    let over = build(MAX_DICT_LEN + 1);
    let err = load(&over).unwrap_err();
    assert!(
        matches!(
            err,
            PickleError::DictTooLarge {
                opcode: "SETITEMS",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("4096"), "{err}");
}

#[test]
fn nesting_is_bounded_so_that_freeing_never_overflows_the_stack() {
    let nested = |levels: usize| {
        let mut p = P::new().op(op::NONE);
        for _ in 0..levels {
            p = p.op(op::TUPLE1);
        }
        p.stop()
    };
    let deepest = nested(MAX_DEPTH as usize);
    let mut value = load_ok(&deepest);
    for _ in 0..MAX_DEPTH {
        value = tuple(&value)[0].clone();
    }
    assert!(matches!(value, Value::None));
    let err = load(&nested(MAX_DEPTH as usize + 1)).unwrap_err();
    assert!(
        matches!(
            err,
            PickleError::TooDeep {
                opcode: "TUPLE1",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("100 levels"), "{err}");
    // A million levels (1 MB of TUPLE1): refused at level 101, not a stack overflow when freed.
    assert!(matches!(
        load(&nested(1_000_000)),
        Err(PickleError::TooDeep { .. })
    ));
    // Depth through dicts and objects counts the same way: a dict holding the deepest tuple.
    let mut p = P::new().op(op::EMPTY_DICT).int1(1).op(op::NONE);
    for _ in 0..MAX_DEPTH {
        p = p.op(op::TUPLE1);
    }
    let err = load(&p.op(op::SETITEM).stop()).unwrap_err();
    assert!(
        matches!(
            err,
            PickleError::TooDeep {
                opcode: "SETITEM",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn cycles_and_changes_after_nesting_are_refused() {
    // d[1] = d: a dict inside itself.
    let cycle = P::new()
        .op(op::EMPTY_DICT)
        .op(op::MEMOIZE)
        .int1(1)
        .op(op::BINGET)
        .bytes(&[0])
        .op(op::SETITEM)
        .stop();
    let err = load(&cycle).unwrap_err();
    assert!(
        matches!(
            err,
            PickleError::ChangedWhenNested {
                opcode: "SETITEM",
                kind: "dict",
                ..
            }
        ),
        "{err}"
    );
    // t = (d,), then d[1] = None: d is frozen once inside t (no depth can hide behind it).
    let late = P::new()
        .op(op::EMPTY_DICT)
        .op(op::MEMOIZE)
        .op(op::TUPLE1)
        .op(op::BINGET)
        .bytes(&[0])
        .int1(1)
        .op(op::NONE)
        .op(op::SETITEM)
        .stop();
    let err = load(&late).unwrap_err();
    assert!(
        err.to_string()
            .contains("changes a dict that is already inside another value"),
        "{err}"
    );
    // Filled first, then nested (what the standard pickler writes): accepted.
    let filled = P::new()
        .op(op::EMPTY_DICT)
        .int1(1)
        .op(op::NONE)
        .op(op::SETITEM)
        .op(op::TUPLE1)
        .stop();
    assert_eq!(tuple(&load_ok(&filled)).len(), 1);
}
