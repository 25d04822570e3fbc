//! `cinder-node stake`: what a token holder does from the shell. Bond,
//! nominate, unbond, withdraw, chill and pay out through `pallet-staking`'s
//! own calls (signed with `--suri`, waited for until they are in a block,
//! their outcome read from the block's events), and show a validator's or a
//! nominator's inference income (`inference_validators`,
//! `inference_nominator`). Mistakes are caught before anything is sent where
//! the chain's state tells, and a refused call is reported in words.

use std::time::{Duration, Instant};

use pallet_inference_rpc::{Amount, NominatorInfo, ValidatorInfo};
use serde_json::json;
use sp_core::{crypto::Ss58Codec, sr25519, Pair};

use cinder_runtime::{
	currency::{TOKEN_DECIMALS, TOKEN_SYMBOL, UNITS},
	AccountId, Balance, Runtime, RuntimeCall, RuntimeError, RuntimeEvent,
};

use crate::{
	client::{
		account_data, best_block, dispatch_failure, storage, wait_included, ClientError, Payer,
	},
	jsonrpc::HttpClient,
};

type Result<T> = std::result::Result<T, ClientError>;

/// Staking from the shell.
#[derive(Debug, Clone, clap::Args)]
pub struct StakeCmd {
	#[command(subcommand)]
	pub action: StakeAction,

	/// The node's HTTP JSON-RPC endpoint.
	#[arg(long, global = true, default_value = "http://127.0.0.1:9944")]
	pub url: String,

	/// Secret URI of the staking account (a dev name such as `//Dave`, or a
	/// mnemonic); needed by every action that signs.
	#[arg(long, global = true)]
	pub suri: Option<String>,

	/// Give up waiting for a transaction after this many seconds.
	#[arg(long, global = true, default_value_t = 60)]
	pub timeout: u64,
}

/// What to do.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum StakeAction {
	/// Bond AMOUNT CDR (decimals allowed) from the account, which is its own
	/// stash and controller; rewards are added to the bond. With `--extra`,
	/// add to an existing bond.
	Bond {
		amount: String,
		#[arg(long)]
		extra: bool,
	},
	/// Nominate validators (SS58 addresses or dev names such as `//Alice`),
	/// replacing any earlier nominations; takes effect at the next election.
	Nominate {
		#[arg(required = true, num_args = 1..=16)]
		validators: Vec<String>,
	},
	/// Start unbonding AMOUNT CDR: it earns nothing from the next era and is
	/// free after the bonding duration (then `withdraw`).
	Unbond { amount: String },
	/// Move unbonded funds whose bonding duration has passed back to free.
	Withdraw,
	/// Stop nominating (or validating) from the next era; the bond stays.
	Chill,
	/// Pay a validator and its nominators their rewards for an era (inflation
	/// and inference income); anyone may call it. Default era: the last
	/// finished one.
	Payout {
		validator: String,
		#[arg(long)]
		era: Option<u32>,
	},
	/// Show the inference income of a validator or a nominator (default: the
	/// `--suri` account); with no account and no `--suri`, every validator.
	Income { account: Option<String> },
}

/// A CDR amount as the user wrote it, in plancks.
pub fn parse_amount(text: &str) -> Result<Balance> {
	let bad = || {
		ClientError::Other(format!(
			"{text:?} is not an amount of {TOKEN_SYMBOL}: write a number such as 1000 or 12.5"
		))
	};
	let (whole, frac) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
	if whole.is_empty() && frac.is_empty() {
		return Err(bad());
	}
	if frac.len() > usize::from(TOKEN_DECIMALS) {
		return Err(ClientError::Other(format!(
			"{text:?} has more than {TOKEN_DECIMALS} decimals, the smallest unit of {TOKEN_SYMBOL}"
		)));
	}
	let digits = |s: &str| s.is_empty() || s.bytes().all(|b| b.is_ascii_digit());
	if !digits(whole) || !digits(frac) {
		return Err(bad());
	}
	let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
	let scale = 10u128.pow(u32::from(TOKEN_DECIMALS) - frac.len() as u32);
	let frac: u128 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| bad())? };
	whole
		.checked_mul(UNITS)
		.and_then(|w| w.checked_add(frac * scale))
		.filter(|v| *v > 0)
		.ok_or_else(|| ClientError::Other(format!("{text:?} is zero or too large")))
}

/// Plancks as CDR, with every significant decimal.
pub fn format_amount(plancks: Balance) -> String {
	let whole = plancks / UNITS;
	let frac = plancks % UNITS;
	if frac == 0 {
		return format!("{whole} {TOKEN_SYMBOL}");
	}
	let frac = format!("{frac:0width$}", width = usize::from(TOKEN_DECIMALS));
	format!("{whole}.{} {TOKEN_SYMBOL}", frac.trim_end_matches('0'))
}

/// An account from an SS58 address or a secret URI (`//Alice`).
pub fn parse_account(text: &str) -> Result<AccountId> {
	if let Ok(id) = AccountId::from_ss58check(text) {
		return Ok(id);
	}
	sr25519::Pair::from_string(text, None).map(|p| AccountId::from(p.public())).map_err(|_| {
		ClientError::Other(format!("{text:?} is neither an SS58 address nor a secret URI"))
	})
}

/// A refused call in words: the ones a token holder meets, else the pallet's
/// error name.
pub fn explain(error: &RuntimeError) -> String {
	use pallet_staking::Error as S;
	let words = match error {
		RuntimeError::Staking(e) => match e {
			S::AlreadyBonded => "the account is already bonded: add to it with `bond --extra`",
			S::NotStash | S::NotController => "the account is not bonded: `bond` first",
			S::InsufficientBond => "the bond is below the minimum to nominate or validate",
			S::EmptyTargets => "name at least one validator to nominate",
			S::TooManyTargets => "too many validators: at most 16",
			S::BadTarget => "one of the targets is not a validator (or blocks nominations)",
			S::NoMoreChunks => "too many unbonding chunks: wait and `withdraw` first",
			S::InvalidEraToReward => "that era cannot be paid out: not finished, or too old",
			S::AlreadyClaimed => "that era's rewards for this validator are already paid",
			S::InvalidPage => "the validator has no stakers to pay in that era",
			S::NotEnoughFunds => "not enough free funds to bond that much",
			_ => "",
		},
		_ => "",
	};
	if words.is_empty() {
		format!("{error:?}")
	} else {
		format!("{words} ({error:?})")
	}
}

/// A signing account connected to a node, and how long to wait for a
/// transaction to land.
struct Signer {
	payer: Payer,
	timeout: Duration,
}

fn other(e: impl std::fmt::Display) -> ClientError {
	ClientError::Other(e.to_string())
}

fn active_era(rpc: &HttpClient) -> Result<Option<u32>> {
	let key = pallet_staking::ActiveEra::<Runtime>::hashed_key();
	Ok(storage::<pallet_staking::ActiveEraInfo>(rpc, &key, None)?.map(|a| a.index))
}

fn ledger(
	rpc: &HttpClient,
	who: &AccountId,
) -> Result<Option<pallet_staking::StakingLedger<Runtime>>> {
	let key = pallet_staking::Ledger::<Runtime>::hashed_key_for(who);
	storage(rpc, &key, None)
}

impl Signer {
	fn connect(url: &str, suri: Option<&str>, timeout: Duration) -> Result<Self> {
		let suri = suri.ok_or_else(|| {
			ClientError::Other("this action signs: pass the account with --suri".into())
		})?;
		Ok(Self { payer: Payer::connect(url, suri)?, timeout })
	}

	fn rpc(&self) -> &HttpClient {
		&self.payer.rpc
	}

	fn account(&self) -> &AccountId {
		&self.payer.account
	}

	/// Signs `call`, submits it and waits for the block that includes it;
	/// returns the events it raised, or the chain's reason for refusing it.
	fn send(&mut self, call: RuntimeCall) -> Result<Vec<RuntimeEvent>> {
		let from = best_block(self.rpc())?;
		let (bytes, _) = self.payer.submit(call)?;
		let deadline = Instant::now() + self.timeout;
		let included = wait_included(self.rpc(), &bytes, from, deadline)?;
		Self::outcome(included.events)
	}

	fn outcome(events: Vec<RuntimeEvent>) -> Result<Vec<RuntimeEvent>> {
		if let Some(dispatch_error) = dispatch_failure(&events) {
			let reason = match RuntimeError::from_dispatch_error(dispatch_error) {
				Some(e) => explain(&e),
				None => format!("{dispatch_error:?}"),
			};
			return Err(ClientError::Other(format!("the chain refused it: {reason}")));
		}
		Ok(events)
	}
}

impl StakeCmd {
	pub fn run(&self) -> Result<()> {
		let timeout = Duration::from_secs(self.timeout);
		let signer = || Signer::connect(&self.url, self.suri.as_deref(), timeout);
		match &self.action {
			StakeAction::Bond { amount, extra } => {
				let mut s = signer()?;
				let value = parse_amount(amount)?;
				let free = account_data(s.rpc(), s.account(), None)?.free;
				if free < value {
					return Err(ClientError::InsufficientFunds {
						account: s.account().to_ss58check(),
						free,
						needed: value,
					});
				}
				let bonded = ledger(s.rpc(), s.account())?;
				let call = match (bonded, extra) {
					(Some(l), false) => {
						return Err(other(format!(
							"{} already bonds {}: add to it with `bond --extra`",
							s.account().to_ss58check(),
							format_amount(l.total)
						)))
					}
					(None, true) => {
						return Err(other("the account is not bonded yet: `bond` without --extra"))
					}
					(None, false) => pallet_staking::Call::bond {
						value,
						payee: pallet_staking::RewardDestination::Staked,
					},
					(Some(_), true) => pallet_staking::Call::bond_extra { max_additional: value },
				};
				s.send(RuntimeCall::Staking(call))?;
				println!("bonded {} from {}", format_amount(value), s.account().to_ss58check());
			}
			StakeAction::Nominate { validators } => {
				let mut s = signer()?;
				let targets =
					validators.iter().map(|v| parse_account(v)).collect::<Result<Vec<_>>>()?;
				let Some(l) = ledger(s.rpc(), s.account())? else {
					return Err(other("the account is not bonded: `bond` first"));
				};
				for t in &targets {
					let key = pallet_staking::Validators::<Runtime>::hashed_key_for(t);
					if storage::<pallet_staking::ValidatorPrefs>(s.rpc(), &key, None)?.is_none() {
						return Err(other(format!("{} is not a validator", t.to_ss58check())));
					}
				}
				let call = pallet_staking::Call::nominate {
					targets: targets.iter().cloned().map(sp_runtime::MultiAddress::Id).collect(),
				};
				s.send(RuntimeCall::Staking(call))?;
				let names: Vec<String> = targets.iter().map(|t| t.to_ss58check()).collect();
				println!(
					"{} nominates {} with {} from the next era",
					s.account().to_ss58check(),
					names.join(", "),
					format_amount(l.active)
				);
			}
			StakeAction::Unbond { amount } => {
				let mut s = signer()?;
				let value = parse_amount(amount)?;
				let Some(l) = ledger(s.rpc(), s.account())? else {
					return Err(other("the account is not bonded: nothing to unbond"));
				};
				if l.active < value {
					return Err(other(format!(
						"only {} is bonded and not already unbonding",
						format_amount(l.active)
					)));
				}
				s.send(RuntimeCall::Staking(pallet_staking::Call::unbond { value }))?;
				let era = active_era(s.rpc())?.unwrap_or(0);
				let free_at = era + cinder_runtime::configs::BondingDuration::get();
				println!(
					"unbonding {}: free to `withdraw` from era {free_at}",
					format_amount(value)
				);
			}
			StakeAction::Withdraw => {
				let mut s = signer()?;
				if ledger(s.rpc(), s.account())?.is_none() {
					return Err(other("the account is not bonded: nothing to withdraw"));
				}
				let before = account_data(s.rpc(), s.account(), None)?;
				let call = pallet_staking::Call::withdraw_unbonded { num_slashing_spans: 0 };
				s.send(RuntimeCall::Staking(call))?;
				let after = account_data(s.rpc(), s.account(), None)?;
				println!(
					"withdrew {}",
					format_amount(before.reserved.saturating_sub(after.reserved))
				);
			}
			StakeAction::Chill => {
				let mut s = signer()?;
				if ledger(s.rpc(), s.account())?.is_none() {
					return Err(other("the account is not bonded: nothing to chill"));
				}
				s.send(RuntimeCall::Staking(pallet_staking::Call::chill {}))?;
				println!(
					"{} stops nominating and validating from the next era",
					s.account().to_ss58check()
				);
			}
			StakeAction::Payout { validator, era } => {
				let mut s = signer()?;
				let validator = parse_account(validator)?;
				let active = active_era(s.rpc())?.ok_or_else(|| other("no era has started yet"))?;
				let era = match era {
					Some(e) => *e,
					None => {
						active.checked_sub(1).ok_or_else(|| other("no era has finished yet"))?
					}
				};
				if era >= active {
					return Err(other(format!(
						"era {era} has not finished (the active era is {active})"
					)));
				}
				let key =
					pallet_staking::ErasStakersOverview::<Runtime>::hashed_key_for(era, &validator);
				if storage::<sp_staking::PagedExposureMetadata<Balance>>(s.rpc(), &key, None)?
					.is_none()
				{
					return Err(other(format!(
						"{} was not an active validator in era {era}",
						validator.to_ss58check()
					)));
				}
				let call = pallet_staking::Call::payout_stakers {
					validator_stash: validator.clone(),
					era,
				};
				let events = s.send(RuntimeCall::Staking(call))?;
				println!("paid out era {era} for validator {}:", validator.to_ss58check());
				for event in events {
					if let RuntimeEvent::Staking(pallet_staking::Event::Rewarded {
						stash,
						amount,
						..
					}) = event
					{
						println!("  {} received {}", stash.to_ss58check(), format_amount(amount));
					}
				}
			}
			StakeAction::Income { account } => {
				let rpc = HttpClient::new(&self.url, Duration::from_secs(60))?;
				let who = match (account, &self.suri) {
					(Some(a), _) => Some(parse_account(a)?),
					(None, Some(suri)) => Some(parse_account(suri)?),
					(None, None) => None,
				};
				show_income(&rpc, who)?;
			}
		}
		Ok(())
	}
}

fn percent(billionths: u32) -> String {
	format!("{}%", f64::from(billionths) / 10_000_000.0)
}

/// Prints `who`'s income as a validator and as a nominator, or every
/// validator's.
fn show_income(rpc: &HttpClient, who: Option<AccountId>) -> Result<()> {
	let validators: Vec<ValidatorInfo<AccountId>> =
		serde_json::from_value(rpc.call("inference_validators", json!([]))?).map_err(other)?;
	let shown: Vec<&ValidatorInfo<AccountId>> =
		validators.iter().filter(|v| who.as_ref().is_none_or(|w| v.stash == *w)).collect();
	for v in &shown {
		println!("validator {}", v.stash.to_ss58check());
		println!(
			"  commission {}, own stake {}, total stake {} ({} nominators), worker {}",
			percent(v.commission),
			format_amount(v.own.0),
			format_amount(v.total.0),
			v.nominators,
			if v.worker { "registered" } else { "not registered" }
		);
		for e in std::iter::once(&v.current).chain(v.previous.as_ref()) {
			let label = if e.era == v.current.era { "this era" } else { "last era" };
			println!(
				"  {label} ({}): income {}, served {}, missed {}, disputes won {} lost {}",
				e.era,
				format_amount(e.income.0),
				e.served,
				e.missed,
				e.disputes_won,
				e.disputes_lost
			);
		}
	}
	let Some(who) = who else { return Ok(()) };
	let nominator: NominatorInfo<AccountId> =
		serde_json::from_value(rpc.call("inference_nominator", json!([who.to_ss58check()]))?)
			.map_err(other)?;
	if nominator.bonded == Amount(0) && nominator.backings.is_empty() {
		if shown.is_empty() {
			println!("{} neither validates nor nominates", who.to_ss58check());
		}
		return Ok(());
	}
	println!("nominator {}: bonded {}", who.to_ss58check(), format_amount(nominator.bonded.0));
	let targets: Vec<String> = nominator.targets.iter().map(|t| t.to_ss58check()).collect();
	println!(
		"  nominates {}",
		if targets.is_empty() { "nobody".into() } else { targets.join(", ") }
	);
	for b in &nominator.backings {
		println!(
			"  era {}: {} of {} behind {} (commission {}): its income {}, your share {}",
			b.era,
			format_amount(b.stake.0),
			format_amount(b.total.0),
			b.validator.to_ss58check(),
			percent(b.commission),
			format_amount(b.income.0),
			format_amount(b.share.0)
		);
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn amounts_parse_exactly_and_refuse_what_is_not_an_amount() {
		assert_eq!(parse_amount("1").ok(), Some(UNITS));
		assert_eq!(parse_amount("12.5").ok(), Some(12 * UNITS + UNITS / 2));
		assert_eq!(parse_amount("0.000000000001").ok(), Some(1));
		assert_eq!(parse_amount(".5").ok(), Some(UNITS / 2));
		for bad in [
			"",
			".",
			"abc",
			"1.2.3",
			"-1",
			"0",
			"0.0000000000001",
			"1e3",
			"999999999999999999999999999999",
		] {
			assert!(parse_amount(bad).is_err(), "{bad:?} parses");
		}
		assert_eq!(format_amount(12 * UNITS + UNITS / 2), "12.5 CDR");
		assert_eq!(format_amount(1), "0.000000000001 CDR");
		assert_eq!(format_amount(3 * UNITS), "3 CDR");
	}

	#[test]
	fn accounts_are_read_from_addresses_and_dev_names() {
		let alice = sp_keyring::Sr25519Keyring::Alice.to_account_id();
		assert_eq!(parse_account("//Alice").ok(), Some(alice.clone()));
		assert_eq!(parse_account(&alice.to_ss58check()).ok(), Some(alice));
		assert!(parse_account("not an account").is_err());
	}

	#[test]
	fn refusals_are_explained_in_words() {
		let e = RuntimeError::Staking(pallet_staking::Error::AlreadyClaimed);
		assert!(explain(&e).starts_with("that era's rewards for this validator are already paid"));
	}
}
