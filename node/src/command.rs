//! Dispatches the parsed command line to the node or a maintenance command.

use sc_cli::SubstrateCli;
use sc_service::PartialComponents;

use crate::{
	chain_spec,
	cli::{Cli, Subcommand},
	service,
};

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Cinder Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	fn support_url() -> String {
		"https://example.invalid/cinder/issues".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		chain_spec::load_spec(id)
	}
}

/// Parses the command line and runs what it asks for.
pub fn run() -> sc_cli::Result<()> {
	// The worker's traces are freed after every request; keep that memory
	// for the next one rather than faulting it back in.
	cinder_engine::keep_freed_memory();
	let cli = Cli::from_args();

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		}
		Some(Subcommand::ExportChainSpec(cmd)) => {
			let chain_spec = cli.load_spec(&cmd.chain)?;
			cmd.run(chain_spec)
		}
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		}
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		}
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		}
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		}
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		}
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } =
					service::new_partial(&config)?;
				let aux_revert =
					Box::new(|client: std::sync::Arc<service::FullClient>, backend, blocks| {
						sc_consensus_babe::revert(client.clone(), backend, blocks)?;
						sc_consensus_grandpa::revert(client, blocks)?;
						Ok(())
					});
				Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
			})
		}
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<cinder_runtime::opaque::Block>(&config))
		}
		Some(Subcommand::Embed(cmd)) => client_result(cmd.run()),
		Some(Subcommand::Generate(cmd)) => client_result(cmd.run()),
		Some(Subcommand::Gateway(cmd)) => client_result(cmd.run()),
		Some(Subcommand::Load(cmd)) => client_result(cmd.run()),
		Some(Subcommand::Stake(cmd)) => client_result(cmd.run()),
		None => {
			let runner = cli.create_runner(&cli.run)?;
			let worker = cli.worker.config(cli.run.shared_params.dev);
			// Tokenizers are served over RPC whenever models are at hand.
			let models_dir = (worker.is_some() || cli.worker.models_dir.is_some())
				.then(|| cli.worker.models_dir());
			runner.run_node_until_exit(|config| async move {
				let chain_type = config.chain_spec.chain_type();
				let worker = worker
					.map(|w| w.for_chain(chain_type))
					.transpose()
					.map_err(sc_cli::Error::Input)?;
				service::new_full(config, worker, models_dir).map_err(sc_cli::Error::Service)
			})
		}
	}
}

/// A client command's outcome: its error in words on stderr and exit code 1,
/// rather than the debug form `main` would print.
fn client_result(result: Result<(), crate::client::ClientError>) -> sc_cli::Result<()> {
	if let Err(e) = result {
		eprintln!("error: {e}");
		std::process::exit(1);
	}
	Ok(())
}
