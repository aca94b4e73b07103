//! `flexvox serve`: opens the store, provisions the demo on first start, binds the sockets,
//! prints the banner and runs until Ctrl-C.

use crate::config::{Config, ConfigError, ServeArgs};
use crate::media_engine::MediaEngine;
use crate::prompts::Prompts;
use crate::{sip_driver, CallContext};
use sip::transaction::Timers;
use sip::{UaConfig, UserAgent};
use std::net::SocketAddr;
use std::sync::Arc;

pub const DEMO_NUMBER: &str = "15550000001";

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("cannot listen for {what} on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("text to speech: {0}")]
    Tts(#[from] tts::TtsError),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("writing credentials.json: {0}")]
    Credentials(std::io::Error),
    #[error("HTTP server: {0}")]
    Serve(std::io::Error),
}

pub async fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let config = Config::load(args)?;
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServeError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let store = match &config.database_url {
        Some(url) => store::Store::open(url)
            .await?
            .with_files_dir(config.data_dir.join("storage")),
        None => store::Store::open_sqlite(&config.data_dir.join("flexvox.db")).await?,
    };
    let demo_url = format!("{}/demo/hello", config.http_base());
    let creds = store
        .provision_demo(config.admin_token.as_deref(), DEMO_NUMBER, &demo_url)
        .await?;
    store.refresh_demo_url(&demo_url).await?;

    let http_listener = tokio::net::TcpListener::bind(config.http_listen)
        .await
        .map_err(|source| ServeError::Bind {
            what: "HTTP",
            addr: config.http_listen,
            source,
        })?;
    let (sip_socket, sip_tcp, sip_port) = bind_sip(&config).await?;
    let advertised_ip = config.advertised_sip_ip();

    let http = crate::url_policy::AppHttp::new(config.url_policy.clone())?;
    let prompts = Arc::new(Prompts::new(
        &config.data_dir.join("cache"),
        http.clone(),
        config.tts_url.clone(),
    )?);
    let media = MediaEngine::start(config.sip_listen.ip(), config.rtp_ports);
    // What a crash left mid-recording is listed before any call can record, then stored off
    // the startup path (reading and storing an hour-long file takes a moment).
    let recordings_dir = recordings_dir(&config.data_dir)?;
    let leftovers = crate::recording_store::leftovers(&recordings_dir);
    if !leftovers.is_empty() {
        let store = store.clone();
        tokio::spawn(async move {
            crate::recording_store::recover(&store, leftovers).await;
        });
    }
    let (sip_tx, sip_rx) = tokio::sync::mpsc::unbounded_channel();
    let sms_webhook = config.sms_webhook.clone();
    let admission = api::admission::Admission::default();
    let ctx = Arc::new(CallContext {
        admission: admission.clone(),
        store: store.clone(),
        sip: sip_tx,
        media,
        prompts,
        // Also resumes the notifications left pending by the last run.
        outbox: crate::outbox::Outbox::start(store.clone(), http.clone()),
        http,
        advertised_ip,
        sms_webhook,
        trunk: config.trunk,
        trunk_credentials: config.trunk_credentials.clone(),
        registrations: crate::call::target::Registrations::new(vec![
            advertised_ip.to_string(),
            config.sip_listen.ip().to_string(),
            "127.0.0.1".into(),
            "localhost".into(),
            config.sip.realm.clone(),
        ]),
        recordings_dir: recordings_dir.clone(),
        http_base: config.http_base(),
    });
    let ua = UserAgent::new(UaConfig {
        local_addr: SocketAddr::new(advertised_ip, sip_port),
        timers: Timers::default(),
        user_agent: concat!("flexvox/", env!("CARGO_PKG_VERSION")).into(),
        seed: rand::random(),
        max_calls: config.sip.max_calls,
        access: sip::policy::AccessPolicy {
            allow: config.sip.allow.clone(),
        },
        users: config.sip.users.clone(),
        realm: config.sip.realm.clone(),
        digest_algorithms: config.sip.digest.clone(),
        ..UaConfig::default()
    });
    // Planner statistics follow the tables as they grow (lists stay index range scans).
    let maintained = store.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            if let Err(e) = maintained.maintain().await {
                tracing::warn!(error = %e, "database maintenance failed");
            }
        }
    });
    // Outbound calls of the FlexML API, placed over SIP when due (also after a restart).
    crate::scheduler::spawn(
        store.clone(),
        Arc::new(crate::call::SipDialer { ctx: ctx.clone() }),
    );
    tokio::spawn(sip_driver::run(sip_socket, sip_tcp, ua, ctx, sip_rx));

    let credentials = serde_json::json!({
        "core_api_token": creds.token,
        "partner_sid": creds.partner_sid,
        "flexml_api": { "base_url": format!("{}/flexml/v1", config.http_base()), "login": creds.login, "password": creds.password, "account_sid": creds.account_sid },
        "demo_did": { "did_sid": creds.did_sid, "phonenumber": creds.phonenumber, "sip_uri": format!("sip:{}@{}:{}", creds.phonenumber, advertised_ip, sip_port) },
    });
    let credentials_path = config.data_dir.join("credentials.json");
    std::fs::write(
        &credentials_path,
        serde_json::to_string_pretty(&credentials).unwrap_or_default(),
    )
    .map_err(ServeError::Credentials)?;

    println!(
        "\nflexvox {version} is running\n\
         \x20 HTTP API        {base}  (FlexML API /flexml/v1, Core API /core/v2)\n\
         \x20 Core API token  {token}\n\
         \x20 FlexML login    {login} / {password}\n\
         \x20 Demo number     {number} -> {demo_url}\n\
         \x20 Try it:         call sip:{number}@{ip}:{port}\n\
         \x20 Credentials     {path}\n",
        version = env!("CARGO_PKG_VERSION"),
        base = config.http_base(),
        token = creds.token,
        login = creds.login,
        password = creds.password,
        number = creds.phonenumber,
        ip = advertised_ip,
        port = sip_port,
        path = credentials_path.display(),
    );

    let app = api::router(api::ApiState { store, admission });
    axum::serve(http_listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(ServeError::Serve)
}

/// Binds the SIP transports on `--sip-listen`: UDP and TCP share the address (and the port,
/// when the configured one is 0 and UDP picks it).
async fn bind_sip(
    config: &Config,
) -> Result<
    (
        Option<tokio::net::UdpSocket>,
        Option<tokio::net::TcpListener>,
        u16,
    ),
    ServeError,
> {
    let mut addr = config.sip_listen;
    let bind_err = |what, addr| move |source| ServeError::Bind { what, addr, source };
    let udp = match config.sip.udp {
        true => Some(
            tokio::net::UdpSocket::bind(addr)
                .await
                .map_err(bind_err("SIP (UDP)", addr))?,
        ),
        false => None,
    };
    if let Some(port) = udp
        .as_ref()
        .and_then(|u| u.local_addr().ok())
        .map(|a| a.port())
    {
        addr.set_port(port);
    }
    let tcp = match config.sip.tcp {
        true => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(bind_err("SIP (TCP)", addr))?,
        ),
        false => None,
    };
    if let Some(port) = tcp
        .as_ref()
        .and_then(|t| t.local_addr().ok())
        .map(|a| a.port())
    {
        addr.set_port(port);
    }
    Ok((udp, tcp, addr.port()))
}

/// The folder recordings are written to while a call records them. What a previous run left
/// there (a crash or kill mid-recording) is kept for `recording_store::recover`.
fn recordings_dir(data_dir: &std::path::Path) -> Result<std::path::PathBuf, ServeError> {
    let dir = data_dir.join("recordings-in-progress");
    std::fs::create_dir_all(&dir).map_err(|source| ServeError::DataDir {
        path: dir.display().to_string(),
        source,
    })?;
    Ok(dir)
}
