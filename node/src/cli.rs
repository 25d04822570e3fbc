//! Command-line interface: `cinder-node [subcommand] [flags]`.

/// The Cinder node.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	#[clap(flatten)]
	pub worker: WorkerArgs,
}

/// The inference worker's flags.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkerArgs {
	/// Run the inference worker (on by default with `--dev`): serve the
	/// models found in `--models-dir` for this node's worker keys.
	#[arg(long)]
	pub worker: bool,

	/// Do not run the worker, even with `--dev`.
	#[arg(long, conflicts_with = "worker")]
	pub no_worker: bool,

	/// Where model directories are. Default: `$CINDER_MODELS_DIR`, else
	/// `~/.cache/cinder/models` (what `scripts/fetch-models.sh` fills).
	#[arg(long, value_name = "PATH")]
	pub models_dir: Option<std::path::PathBuf>,

	/// Engine threads, shared among the requests running at once (a lone
	/// request gets all of them). Default: the machine's cores.
	#[arg(long, value_name = "N")]
	pub worker_threads: Option<usize>,

	/// Requests waiting to run before new ones wait for a later block.
	#[arg(long, value_name = "N", default_value_t = 64)]
	pub worker_queue: usize,

	/// Run a deliberately faulty worker, to test the dispute game:
	/// `corrupt-output`, `corrupt-step=N`, `random-root` or `silent` (never
	/// answers). Refused on
	/// anything but development and local chains.
	#[arg(long, value_name = "MODE")]
	pub fault: Option<crate::worker::Fault>,

	/// Percent of other workers' results this worker re-executes while they
	/// are open to challenge, challenging any that differ. Default: 100 on
	/// development and local chains, 10 elsewhere.
	#[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u8).range(0..=100))]
	pub audit_share: Option<u8>,
}

impl WorkerArgs {
	/// The models directory in effect.
	pub fn models_dir(&self) -> std::path::PathBuf {
		self.models_dir.clone().unwrap_or_else(cinder_engine::models_dir)
	}

	/// The worker's configuration, if it runs (`dev`: whether `--dev` is on).
	pub fn config(&self, dev: bool) -> Option<crate::worker::WorkerConfig> {
		let on = self.worker || (dev && !self.no_worker);
		on.then(|| crate::worker::WorkerConfig {
			threads: self
				.worker_threads
				.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
			queue: self.worker_queue,
			fault: self.fault,
			audit_share: self.audit_share,
		})
	}
}

/// Maintenance subcommands; without one the node runs.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys (session keys
	/// included, with `key insert --key-type babe|gran`).
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (deprecated upstream in favour of
	/// `export-chain-spec`, kept for tooling that expects it).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Database metadata.
	ChainInfo(sc_cli::ChainInfoCmd),

	/// Embed text through a running chain: tokenize over RPC, pay for a
	/// request, wait for the worker's result and its settlement, print it.
	Embed(crate::client::EmbedCmd),

	/// Generate a reply with a chat model through a running chain: the
	/// reply, its tokens, the fee paid and the settlement.
	Generate(crate::generate::GenerateCmd),

	/// Serve an OpenAI-compatible HTTP API (models, embeddings, chat
	/// completions with streaming) in front of a node, paying for each
	/// request on chain.
	Gateway(crate::gateway::GatewayCmd),

	/// Measure request latency and throughput against a running chain.
	Load(crate::load::LoadCmd),

	/// Stake from the shell: bond, nominate, unbond, withdraw, chill, pay
	/// out an era, and show a validator's or a nominator's inference income.
	Stake(crate::stake::StakeCmd),
}
