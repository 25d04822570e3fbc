//! What a challenger can hand the runtime: any step descriptor, any tiles,
//! any bytes, any Merkle siblings. The kernel answers each with a value or a
//! typed error and never panics (the runtime would trap).
#![allow(clippy::unwrap_used)]

use cinder_kernel::{
	merkle,
	program::{Op, Rope, Source, Step},
	quant::WeightFormat,
	sampler::Sampling,
	testing::any_f32,
	verify::{decoder, recompute},
	Input, QTile, Tile,
};
use proptest::prelude::*;

fn any_op() -> impl Strategy<Value = Op> {
	prop_oneof![
		any::<u32>().prop_map(|eps| Op::Embed { eps }),
		any::<bool>().prop_map(|gelu| Op::Linear { gelu }),
		any::<u32>().prop_map(|eps| Op::AddNorm { eps }),
		(any::<u32>(), any::<bool>()).prop_map(|(first, causal)| Op::Attention { first, causal }),
		Just(Op::PoolSum),
		any::<u32>().prop_map(|tokens| Op::PoolFinish { tokens }),
	]
}

/// Small tiles of any shape (sometimes with data that disagrees with it).
fn any_tile() -> impl Strategy<Value = Tile> {
	(0u32..6, 0u32..6, any::<bool>()).prop_flat_map(|(rows, cols, honest)| {
		let len = (rows * cols) as usize + usize::from(!honest && rows > 0);
		proptest::collection::vec(any_f32(), len).prop_map(move |data| Tile { rows, cols, data })
	})
}

/// Any operator of either spec.
fn any_op_v2() -> impl Strategy<Value = Op> {
	let sampling = prop_oneof![
		Just(Sampling::Greedy),
		(any::<u32>(), any::<u32>())
			.prop_map(|(temperature, top_p)| Sampling::TopP { temperature, top_p }),
		Just(Sampling::TopP { temperature: 0.7f32.to_bits(), top_p: 0.9f32.to_bits() }),
	];
	let rope = proptest::option::of(
		(any::<u32>(), 0u32..40, any::<u32>()).prop_map(|(first, head, theta)| Rope {
			first,
			head,
			theta,
		}),
	);
	prop_oneof![
		any_op(),
		(0u32..70).prop_map(|column| Op::Lookup { column }),
		(any::<u32>(), 0u32..6).prop_map(|(eps, first_row)| Op::RmsNorm { eps, first_row }),
		(rope, any::<bool>()).prop_map(|(rope, residual)| Op::QLinear { rope, residual }),
		Just(Op::GateUp),
		(any::<u32>(), any::<u32>(), any::<bool>())
			.prop_map(|(first, first_key, finish)| Op::Attend { first, first_key, finish }),
		Just(Op::Combine),
		(sampling, any::<u32>()).prop_map(|(sampling, index)| Op::Sample { sampling, index }),
		Just(Op::Collect),
	]
}

/// Small quantized tiles, whole blocks or not, with any bytes.
fn any_qtile() -> impl Strategy<Value = QTile> {
	(
		prop_oneof![Just(WeightFormat::Q4_1), Just(WeightFormat::Q8_0)],
		0u32..4,
		prop_oneof![Just(32u32), Just(64), 0u32..70],
	)
		.prop_flat_map(|(format, rows, cols)| {
			let whole = format.row_bytes(cols as usize).unwrap_or(7) * rows as usize;
			(prop_oneof![Just(whole), 0..whole + 3], Just((format, rows, cols)))
		})
		.prop_flat_map(|(len, (format, rows, cols))| qtile_of(format, rows, cols, len))
}

/// f32 tiles as wide as quantized rows, or any small shape.
fn any_wide_tile() -> impl Strategy<Value = Tile> {
	prop_oneof![
		any_tile(),
		(0u32..4, prop_oneof![Just(32u32), Just(64), Just(66)])
			.prop_flat_map(|(rows, cols)| tile(rows, cols)),
	]
}

/// `rows × cols` of any values.
fn tile(rows: u32, cols: u32) -> impl Strategy<Value = Tile> {
	proptest::collection::vec(any_f32(), (rows * cols) as usize).prop_map(move |data| Tile {
		rows,
		cols,
		data,
	})
}

/// A quantized tile of `len` bytes, whatever its shape says.
fn qtile_of(
	format: WeightFormat,
	rows: u32,
	cols: u32,
	len: usize,
) -> impl Strategy<Value = QTile> {
	proptest::collection::vec(any::<u8>(), len).prop_map(move |data| QTile {
		format,
		rows,
		cols,
		data,
	})
}

/// `rows` whole quantized rows of `cols` values, any bytes.
fn qtile(format: WeightFormat, rows: u32, cols: u32) -> impl Strategy<Value = QTile> {
	qtile_of(format, rows, cols, format.row_bytes(cols as usize).unwrap_or(0) * rows as usize)
}

/// The inputs `order` lists: the next quantized tile where it says
/// `true`, else the next f32 one.
fn interleave<'a>(order: &[bool], f32s: &'a [Tile], quants: &'a [QTile]) -> Vec<Input<'a>> {
	let (mut f, mut q) = (f32s.iter(), quants.iter());
	order
		.iter()
		.filter_map(
			|&quant| if quant { q.next().map(Input::Quant) } else { f.next().map(Input::F32) },
		)
		.collect()
}

fn format() -> impl Strategy<Value = WeightFormat> {
	prop_oneof![Just(WeightFormat::Q4_1), Just(WeightFormat::Q8_0)]
}

/// A well-formed step of each spec v2 operator with its inputs (any
/// values, any quantized bytes): the arithmetic itself on hostile numbers.
fn well_formed_v2() -> impl Strategy<Value = (Step, Vec<Tile>, Vec<QTile>, Vec<bool>)> {
	let k = prop_oneof![Just(32u32), Just(64)];
	let step = |op, rows, cols, order: &[bool]| Step {
		op,
		inputs: vec![Source::Step(0); order.len()],
		rows,
		cols,
	};
	prop_oneof![
		// Lookup: one quantized row per output row.
		(format(), 1u32..3, k.clone(), 0u32..32).prop_flat_map(move |(f, rows, k, column)| {
			let cols = (k - column).min(8);
			(proptest::collection::vec(qtile(f, 1, k), rows as usize), Just((rows, column, cols)))
				.prop_map(move |(q, (rows, column, cols))| {
					let order = vec![true; q.len()];
					(step(Op::Lookup { column }, rows, cols, &order), vec![], q, order)
				})
		}),
		// RmsNorm over two column tiles.
		(1u32..4, 1u32..4, 1u32..4, any::<u32>()).prop_flat_map(move |(r, a, b, eps)| {
			(tile(r, a), tile(r, b), tile(1, a + b), 0..r).prop_map(move |(x, y, g, first_row)| {
				let order = vec![false; 3];
				let op = Op::RmsNorm { eps, first_row };
				(step(op, r - first_row, a + b, &order), vec![x, y, g], vec![], order)
			})
		}),
		// QLinear, with RoPE and a residual or not.
		(
			format(),
			1u32..3,
			k.clone(),
			prop_oneof![Just(2u32), Just(4)],
			any::<bool>(),
			any::<bool>(),
			any::<u32>()
		)
			.prop_flat_map(move |(f, r, k, n, rope, residual, theta)| {
				(tile(r, k), qtile(f, n, k), tile(r, n)).prop_map(move |(x, w, res)| {
					// Positions up to the last a u32 holds.
					let first = if theta % 2 == 0 { 3 } else { u32::MAX - r };
					let rope = rope.then_some(Rope { first, head: 2, theta });
					let mut order = vec![false, true];
					let mut f32s = vec![x];
					if residual {
						order.push(false);
						f32s.push(res);
					}
					let op = Op::QLinear { rope, residual };
					(step(op, r, n, &order), f32s, vec![w], order)
				})
			}),
		// GateUp.
		(format(), 1u32..3, k, 1u32..4).prop_flat_map(move |(f, r, k, n)| {
			(tile(r, k), qtile(f, n, k), qtile(f, n, k)).prop_map(move |(x, g, u)| {
				let order = vec![false, true, true];
				(step(Op::GateUp, r, n, &order), vec![x], vec![g, u], order)
			})
		}),
		// Attend over two key tiles, finished or partial.
		(1u32..3, 1u32..4, 1u32..3, 1u32..3, any::<bool>(), 0u32..4, 0u32..4).prop_flat_map(
			move |(r, d, t1, t2, finish, first, first_key)| {
				(tile(r, d), tile(t1, d), tile(t2, d), tile(t1, d), tile(t2, d)).prop_map(
					move |(q, k1, k2, v1, v2)| {
						let order = vec![false; 5];
						let op = Op::Attend { first, first_key, finish };
						let cols = if finish { d } else { d + 2 };
						(step(op, r, cols, &order), vec![q, k1, k2, v1, v2], vec![], order)
					},
				)
			}
		),
		// Combine two partials.
		(1u32..3, 1u32..4).prop_flat_map(move |(r, d)| {
			(tile(r, d + 2), tile(r, d + 2)).prop_map(move |(a, b)| {
				let order = vec![false; 2];
				(step(Op::Combine, r, d, &order), vec![a, b], vec![], order)
			})
		}),
		// Sample from two logit tiles.
		(1u32..5, 1u32..5, any::<u32>(), any::<u32>(), any::<u32>()).prop_flat_map(
			move |(a, b, temperature, top_p, index)| {
				(tile(1, a), tile(1, b)).prop_map(move |(x, y)| {
					let order = vec![false; 2];
					let op = Op::Sample { sampling: Sampling::TopP { temperature, top_p }, index };
					(step(op, 1, 1, &order), vec![x, y], vec![], order)
				})
			}
		),
		// Collect.
		(1u32..5).prop_flat_map(move |n| {
			proptest::collection::vec(tile(1, 1), n as usize).prop_map(move |ts| {
				let order = vec![false; ts.len()];
				(step(Op::Collect, 1, n, &order), ts, vec![], order)
			})
		}),
	]
}

proptest! {
	#[test]
	fn well_formed_v2_steps_compute_any_values(
		(step, f32s, quants, order) in well_formed_v2(),
		seed in any::<[u8; 32]>(),
	) {
		let inputs = interleave(&order, &f32s, &quants);
		let out = decoder::recompute(&step, &inputs, decoder::Context { seed: &seed });
		let out = out.map_err(|e| TestCaseError::fail(format!("{:?}: {e:?}", step.op)))?;
		prop_assert_eq!((out.rows, out.cols), (step.rows, step.cols));
		// Every NaN out is the canonical one.
		prop_assert!(out.data.iter().all(|x| !x.is_nan() || x.to_bits() == 0x7fc0_0000));
	}

	#[test]
	fn positions_past_u32_are_refused(rows in 2u32..4, first in (u32::MAX - 1)..=u32::MAX) {
		// Query rows whose positions would pass u32::MAX.
		let q = Tile::zeros(rows, 2);
		let k = Tile::zeros(1, 2);
		let step = Step {
			op: Op::Attend { first, first_key: 0, finish: true },
			inputs: vec![Source::Step(0); 3],
			rows,
			cols: 2,
		};
		let inputs = [Input::F32(&q), Input::F32(&k), Input::F32(&k)];
		let out = decoder::recompute(&step, &inputs, decoder::Context { seed: &[0; 32] });
		prop_assert_eq!(out, Err(cinder_kernel::KernelError::ShapeMismatch));
		// And RoPE on such rows.
		let x = Tile::zeros(rows, 32);
		let w = QTile { format: WeightFormat::Q8_0, rows: 2, cols: 32, data: vec![0; 68] };
		let step = Step {
			op: Op::QLinear { rope: Some(Rope { first, head: 2, theta: 0 }), residual: false },
			inputs: vec![Source::Step(0); 2],
			rows,
			cols: 2,
		};
		let out = decoder::recompute(&step, &[Input::F32(&x), Input::Quant(&w)], decoder::Context { seed: &[0; 32] });
		prop_assert_eq!(out, Err(cinder_kernel::KernelError::ShapeMismatch));
	}

	#[test]
	fn recompute_v2_never_panics(
		op in any_op_v2(),
		rows in prop_oneof![0u32..6, Just(u32::MAX)],
		cols in prop_oneof![0u32..6, Just(32), Just(64), Just(u32::MAX)],
		f32s in proptest::collection::vec(any_wide_tile(), 0..8),
		quants in proptest::collection::vec(any_qtile(), 0..4),
		order in proptest::collection::vec(any::<bool>(), 0..12),
		seed in any::<[u8; 32]>(),
	) {
		// Inputs interleaved as `order` says, f32 or quantized.
		let inputs = interleave(&order, &f32s, &quants);
		let step = Step { op, inputs: vec![Source::Step(0); inputs.len()], rows, cols };
		if let Ok(out) = decoder::recompute(&step, &inputs, decoder::Context { seed: &seed }) {
			prop_assert_eq!((out.rows, out.cols), (rows, cols));
		}
	}

	#[test]
	fn qtile_decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
		for format in [WeightFormat::Q4_1, WeightFormat::Q8_0] {
			if let Ok(tile) = QTile::from_bytes(format, &bytes) {
				prop_assert_eq!(tile.to_bytes(), bytes.clone());
			}
		}
	}
}

proptest! {
	#[test]
	fn recompute_never_panics(
		op in any_op(),
		rows in prop_oneof![0u32..6, Just(u32::MAX)],
		cols in prop_oneof![0u32..6, Just(u32::MAX)],
		tiles in proptest::collection::vec(any_tile(), 0..8),
	) {
		let step = Step { op, inputs: vec![Source::Step(0); tiles.len()], rows, cols };
		let refs: Vec<&Tile> = tiles.iter().collect();
		if let Ok(out) = recompute(&step, &refs) {
			prop_assert_eq!((out.rows, out.cols), (rows, cols));
		}
	}

	#[test]
	fn tile_decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
		if let Ok(tile) = Tile::from_bytes(&bytes) {
			prop_assert_eq!(tile.to_bytes().len(), bytes.len());
		}
	}

	#[test]
	fn merkle_verification_never_panics(
		index in any::<u32>(),
		count in any::<u32>(),
		siblings in proptest::collection::vec(any::<[u8; 32]>(), 0..40),
		leaf in any::<[u8; 32]>(),
	) {
		let root = merkle::root(&[leaf]);
		let ok = merkle::verify(&root, leaf, index, count, &siblings);
		// The one-leaf tree is proved by no siblings at index 0.
		prop_assert_eq!(ok, index == 0 && count == 1 && siblings.is_empty());
	}
}
