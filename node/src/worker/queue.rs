//! The executor's two bounded queues: dispute moves, whose deadlines are a
//! few blocks away, run before any inference or audit waiting in the other.

use std::{
	sync::mpsc::{self, RecvTimeoutError, SyncSender},
	time::Duration,
};

/// Where the follower puts work.
pub struct Senders<J> {
	/// Dispute moves.
	pub moves: SyncSender<J>,
	/// Inference and audits.
	pub work: SyncSender<J>,
}

/// Where the executor takes it from.
pub struct Receivers<J> {
	moves: mpsc::Receiver<J>,
	work: mpsc::Receiver<J>,
}

/// Two queues of `depth` jobs each.
pub fn channels<J>(depth: usize) -> (Senders<J>, Receivers<J>) {
	let (moves, moves_rx) = mpsc::sync_channel(depth.max(1));
	let (work, work_rx) = mpsc::sync_channel(depth.max(1));
	(Senders { moves, work }, Receivers { moves: moves_rx, work: work_rx })
}

/// How long the executor waits on the work queue before looking at the
/// moves again.
const POLL: Duration = Duration::from_millis(50);

impl<J> Receivers<J> {
	/// The next job, a waiting move first; `None` once the senders are gone.
	pub fn next(&self) -> Option<J> {
		loop {
			if let Ok(job) = self.moves.try_recv() {
				return Some(job);
			}
			match self.work.recv_timeout(POLL) {
				Ok(job) => return Some(job),
				Err(RecvTimeoutError::Timeout) => continue,
				Err(RecvTimeoutError::Disconnected) => return self.moves.recv().ok(),
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn moves_overtake_waiting_work_and_the_queues_drain_when_closed() {
		let (tx, rx) = channels::<&str>(4);
		tx.work.try_send("embed 1").unwrap();
		tx.work.try_send("embed 2").unwrap();
		tx.moves.try_send("reveal").unwrap();
		assert_eq!(rx.next(), Some("reveal"));
		assert_eq!(rx.next(), Some("embed 1"));
		tx.moves.try_send("prove").unwrap();
		assert_eq!(rx.next(), Some("prove"));
		assert_eq!(rx.next(), Some("embed 2"));
		// Bounded: a full queue refuses, the other still takes work.
		for _ in 0..4 {
			tx.work.try_send("more").unwrap();
		}
		assert!(tx.work.try_send("too many").is_err());
		assert!(tx.moves.try_send("urgent").is_ok());
		assert_eq!(rx.next(), Some("urgent"));
		drop(tx);
		assert_eq!((0..5).filter_map(|_| rx.next()).count(), 4);
		assert_eq!(rx.next(), None);
	}
}
