//! [`CheckRequest`]: the transaction pool refuses a `request` (or
//! `generate`) the pallet would refuse, so it never reaches a block and costs its caller nothing.

use core::marker::PhantomData;

use codec::{Decode, DecodeWithMemTracking, Encode};
use frame_support::{
	pallet_prelude::TransactionSource, traits::IsSubType, weights::Weight, DefaultNoBound,
};
use scale_info::TypeInfo;
use sp_runtime::{
	impl_tx_ext_default,
	traits::{AsSystemOriginSigner, DispatchInfoOf, TransactionExtension, ValidateResult},
	transaction_validity::InvalidTransaction,
};

use crate::{weights::WeightInfo, Call, Config, Pallet, Refusal};
use pallet_models::{Generation, Task};

/// Runs [`Pallet::check_caller_request`] on every signed `inference.request`
/// and `inference.generate`
/// while the transaction is validated: an unknown or retired model, a bad
/// input, a `max_fee` below the price, or a caller who cannot hold
/// `max_fee`, make the transaction invalid with
/// `InvalidTransaction::Custom(code)` ([`refusal_code`]), before any fee is
/// charged. The call checks everything again when it runs.
#[derive(Encode, Decode, DecodeWithMemTracking, DefaultNoBound, Clone, Eq, PartialEq, TypeInfo)]
#[scale_info(skip_type_params(T))]
pub struct CheckRequest<T>(PhantomData<T>);

impl<T> CheckRequest<T> {
	pub fn new() -> Self {
		Self(PhantomData)
	}
}

impl<T> core::fmt::Debug for CheckRequest<T> {
	fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
		write!(f, "CheckRequest")
	}
}

/// The `InvalidTransaction::Custom` code of `r`: its index in [`Refusal`]
/// plus 100, clear of the codes other extensions use.
pub fn refusal_code(r: Refusal) -> u8 {
	(r as u8).saturating_add(100)
}

/// The [`Refusal`] of an `InvalidTransaction::Custom` code, if it is one.
pub fn refusal_of_code(code: u8) -> Option<Refusal> {
	let index = code.checked_sub(100)?;
	Refusal::decode(&mut &[index][..]).ok()
}

impl<T: Config + Send + Sync> TransactionExtension<<T as frame_system::Config>::RuntimeCall>
	for CheckRequest<T>
where
	<T as frame_system::Config>::RuntimeCall: IsSubType<Call<T>>,
	<T as frame_system::Config>::RuntimeOrigin: AsSystemOriginSigner<T::AccountId> + Clone,
{
	const IDENTIFIER: &'static str = "CheckRequest";
	type Implicit = ();
	type Val = ();
	type Pre = ();

	fn weight(&self, call: &<T as frame_system::Config>::RuntimeCall) -> Weight {
		match call.is_sub_type() {
			Some(Call::request { input, .. }) | Some(Call::generate { prompt: input, .. }) => {
				T::WeightInfo::check_request(input.len() as u32)
			}
			_ => Weight::zero(),
		}
	}

	fn validate(
		&self,
		origin: <T as frame_system::Config>::RuntimeOrigin,
		call: &<T as frame_system::Config>::RuntimeCall,
		_info: &DispatchInfoOf<<T as frame_system::Config>::RuntimeCall>,
		_len: usize,
		_self_implicit: Self::Implicit,
		_inherited_implication: &impl Encode,
		_source: TransactionSource,
	) -> ValidateResult<Self::Val, <T as frame_system::Config>::RuntimeCall> {
		let request = match call.is_sub_type() {
			Some(Call::request { model, input, max_fee }) => {
				Some((*model, input, Task::Embed, *max_fee))
			}
			Some(Call::generate { model, prompt, max_new_tokens, sampling, seed, max_fee }) => {
				let generation = Generation {
					max_new_tokens: *max_new_tokens,
					sampling: *sampling,
					seed: *seed,
				};
				Some((*model, prompt, Task::Generate(generation), *max_fee))
			}
			_ => None,
		};
		if let (Some((model, input, task, max_fee)), Some(who)) =
			(request, origin.as_system_origin_signer())
		{
			Pallet::<T>::check_caller_request(who, model, input, &task, max_fee)
				.map_err(|r| InvalidTransaction::Custom(refusal_code(r)))?;
		}
		Ok((Default::default(), (), origin))
	}

	impl_tx_ext_default!(<T as frame_system::Config>::RuntimeCall; prepare);
}
