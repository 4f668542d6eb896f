//! `phm cluster scheduler|executor` (cargo feature `ballista`): the Apache
//! Ballista scheduler and executor, started from the phm binary so an executor
//! always has the same DataFusion build (and functions) as the phm that sends
//! it plans. The rules use only built-in SQL functions, so upstream Ballista
//! executors of the same version (55) would run them too.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use clap::Subcommand;

use crate::error::{PhmError, Result};

/// Run one process of a Ballista cluster (see scripts/ballista-local.sh).
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// The scheduler: receives plans from `phm --engine ballista://HOST:PORT` and hands tasks to executors.
    Scheduler {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// gRPC port (the one in ballista://HOST:PORT).
        #[arg(long, default_value_t = 50050)]
        port: u16,
    },
    /// An executor: registers with the scheduler and runs its tasks.
    Executor {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Arrow Flight port (results and shuffle data are fetched from it).
        #[arg(long, default_value_t = 50051)]
        port: u16,
        /// gRPC port.
        #[arg(long, default_value_t = 50052)]
        grpc_port: u16,
        /// Scheduler host.
        #[arg(long, default_value = "127.0.0.1")]
        scheduler_host: String,
        /// Scheduler port.
        #[arg(long, default_value_t = 50050)]
        scheduler_port: u16,
        /// Tasks run at once (default: all cores).
        #[arg(long)]
        concurrent_tasks: Option<usize>,
        /// Folder for shuffle files (default: a temporary folder).
        #[arg(long, value_name = "DIR")]
        work_dir: Option<PathBuf>,
    },
}

/// A scheduler or executor that fails (port taken, scheduler gone) is a
/// run-time failure (exit 1), not bad input.
fn cluster_error(e: impl std::fmt::Display) -> PhmError {
    PhmError::Engine(datafusion::error::DataFusionError::External(
        format!("ballista: {e}").into(),
    ))
}

pub async fn run(command: ClusterCommand) -> Result<()> {
    match command {
        ClusterCommand::Scheduler { bind, port } => {
            let address: SocketAddr = format!("{bind}:{port}")
                .parse()
                .map_err(|e| cluster_error(format!("--bind {bind} --port {port}: {e}")))?;
            let mut config = SchedulerConfig::default()
                .with_hostname(bind.clone())
                .with_port(port);
            config.bind_host = bind;
            let cluster = BallistaCluster::new_from_config(&config)
                .await
                .map_err(cluster_error)?;
            start_server(cluster, address, Arc::new(config))
                .await
                .map_err(cluster_error)
        }
        ClusterCommand::Executor {
            bind,
            port,
            grpc_port,
            scheduler_host,
            scheduler_port,
            concurrent_tasks,
            work_dir,
        } => {
            let vcores = concurrent_tasks.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
            });
            let config = ExecutorProcessConfig {
                bind_host: bind.clone(),
                external_host: Some(bind),
                port,
                grpc_port,
                scheduler_host,
                scheduler_port,
                vcores,
                work_dir: work_dir.map(|d| d.to_string_lossy().into_owned()),
                ..Default::default()
            };
            start_executor_process(Arc::new(config))
                .await
                .map_err(cluster_error)
        }
    }
}
