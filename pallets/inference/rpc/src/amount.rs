//! Amounts in JSON: decimal strings, exact in JavaScript (whose numbers
//! lose precision above 2^53 plancks), as Substrate's own payment RPC sends
//! them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount in plancks, sent as a decimal string (JSON numbers lose
/// precision above 2^53 in JavaScript). Reads a string or a number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Amount(pub u128);

impl Serialize for Amount {
	fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
		s.serialize_str(&self.0.to_string())
	}
}

impl<'de> Deserialize<'de> for Amount {
	fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
		#[derive(Deserialize)]
		#[serde(untagged)]
		enum Either {
			Text(String),
			Number(u64),
		}
		match Either::deserialize(d)? {
			Either::Text(s) => s.parse().map(Amount).map_err(serde::de::Error::custom),
			Either::Number(n) => Ok(Amount(u128::from(n))),
		}
	}
}

impl Amount {
	/// `b` as an amount.
	pub fn of<B: Into<u128>>(b: B) -> Self {
		Self(b.into())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn amounts_travel_as_exact_decimal_strings() {
		let big = Amount(9_007_199_254_740_993);
		let json = serde_json::to_string(&big).unwrap_or_default();
		assert_eq!(json, "\"9007199254740993\"");
		assert_eq!(serde_json::from_str::<Amount>(&json).ok(), Some(big));
		assert_eq!(serde_json::from_str::<Amount>("42").ok(), Some(Amount(42)));
		assert!(serde_json::from_str::<Amount>("\"-1\"").is_err());
		assert!(serde_json::from_str::<Amount>("\"1e3\"").is_err());
	}
}
