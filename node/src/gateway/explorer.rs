//! What the playground shows beside its own requests: a request as it
//! stands, and the chain's recent requests, validators and disputes.

use serde_json::{json, Value};

use super::{error::ApiError, Gateway};

/// How many of the newest requests the overview lists.
const RECENT: u64 = 20;

/// The playground: one page and its script, no build step.
pub(super) const PLAYGROUND: &str = include_str!("playground.html");

impl Gateway {
	/// `GET /v1/cinder/requests/{id}`.
	pub(super) fn request_status(&self, id: &str) -> Result<Value, ApiError> {
		let id: u64 = id
			.parse()
			.map_err(|_| ApiError::invalid(format!("{id:?} is not a request id"), None))?;
		Ok(json!(self.chain.status(id)?))
	}

	/// `GET /v1/cinder/overview`: the newest requests (those still
	/// retained), the active validators and their workers, and the disputes
	/// among those requests.
	pub(super) fn overview(&self) -> Result<Value, ApiError> {
		let next = self.chain.next_request_id()?;
		let requests: Vec<_> = (next.saturating_sub(RECENT)..next)
			.rev()
			.filter_map(|id| self.chain.status(id).ok())
			.collect();
		let disputes: Vec<Value> = requests
			.iter()
			.filter_map(|r| r.dispute.as_ref().map(|d| json!({"request": r.request, "dispute": d})))
			.collect();
		Ok(json!({
			"nextRequest": next,
			"requests": requests,
			"validators": self.chain.validators()?,
			"disputes": disputes,
		}))
	}
}
