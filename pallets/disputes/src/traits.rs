//! What the dispute game needs from the rest of the runtime.

/// Reports a worker proven to have posted a wrong result, so staking
/// slashes it and its nominators. The runtime backs it with
/// `pallet-offences`; tests with a list.
pub trait ReportFraud<AccountId> {
	/// `offender`'s result for `request` was proven wrong; `reporter` is the
	/// challenger that proved it (none when the challenger lied too). Each
	/// request is a distinct offence.
	fn report(request: u64, offender: &AccountId, reporter: Option<&AccountId>);
}

impl<AccountId> ReportFraud<AccountId> for () {
	fn report(_: u64, _: &AccountId, _: Option<&AccountId>) {}
}
