//! The flexvox binary: configuration, the tokio drivers around the sans-IO SIP, media and
//! call-flow machines, the HTTP API server, and the command line (`flexvox serve`).

mod audio_cache;
mod bench_media;
mod call;
mod config;
mod fetcher;
mod media_engine;
mod outbox;
mod prompts;
mod recording_store;
mod scheduler;
mod serve;
mod simulate;
mod sip_config;
mod sip_driver;
mod sip_tcp;
mod tts_http;
mod url_policy;

use clap::{Parser, Subcommand};
use std::net::IpAddr;

/// What every call task shares.
pub struct CallContext {
    pub store: store::Store,
    pub sip: tokio::sync::mpsc::UnboundedSender<sip_driver::SipCommand>,
    pub media: media_engine::MediaEngine,
    pub prompts: std::sync::Arc<prompts::Prompts>,
    pub http: url_policy::AppHttp,
    /// Status and recording callbacks and the SMS webhook, delivered at least once.
    pub outbox: outbox::Outbox,
    /// Live calls and call rates per account, shared with the API (`POST /calls`).
    pub admission: api::admission::Admission,
    pub advertised_ip: IpAddr,
    /// Where Sms messages go; without one they are only logged.
    pub sms_webhook: Option<String>,
    /// Where Dial sends numbers, and the credentials for its challenges.
    pub trunk: Option<std::net::SocketAddr>,
    pub trunk_credentials: Option<(String, String)>,
    /// SIP users' registered contacts, which Dial reaches by name.
    pub registrations: call::target::Registrations,
    /// Where the media engine writes recordings before they are stored.
    pub recordings_dir: std::path::PathBuf,
    /// This server's HTTP address as apps reach it: RecordingUrl is built on it.
    pub http_base: String,
}

#[derive(Parser)]
#[command(
    name = "flexvox",
    version,
    about = "Self-hosted programmable voice: SIP calls run by FlexML apps"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: SIP, RTP, the HTTP APIs and the demo app.
    Serve(Box<config::ServeArgs>),
    /// Run an app against a virtual caller on virtual time, without SIP, and print the timeline.
    Simulate(simulate::SimulateArgs),
    /// Load-test the media engine with loopback peers (see bench/media_engine.sh).
    #[command(hide = true)]
    BenchMedia(bench_media::BenchMediaArgs),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("flexvox: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Serve(args) => runtime.block_on(serve::serve(*args)).map_err(Into::into),
        Command::BenchMedia(args) => bench_media::run(args).map_err(Into::into),
        Command::Simulate(args) => runtime
            .block_on(simulate::simulate(args))
            .map_err(Into::into),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flexvox: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
