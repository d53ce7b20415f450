//! The `entitle` command line.

pub mod apps;
mod config;
pub mod delete_users;
pub mod keys;
mod output;
pub mod serve;
mod webhooks;

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

use crate::config::{DEFAULT_DATABASE_URL, DatabaseUrl};
use crate::telemetry::LogFormat;

#[derive(Debug, Parser)]
#[command(
    name = "entitle",
    version,
    about = "A self-hostable subscription-profile server speaking Adapty's server-side API v2"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Database URL: `sqlite://PATH` (the default, embedded) or `postgres://…`.
    #[arg(long, global = true, env = "ENTITLE_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, value_parser = DatabaseUrl::parse, hide_env_values = true)]
    pub database_url: DatabaseUrl,
    /// Print results as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log format on standard error.
    #[arg(
        long,
        global = true,
        env = "ENTITLE_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (and, unless --no-worker, deliver webhooks).
    Serve(ServeArgs),
    /// Deliver webhooks only, without serving the API.
    Worker(WorkerArgs),
    /// Manage webhook integrations.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// Delete many users through any Adapty-compatible server's DELETE endpoint, concurrently.
    DeleteUsers(DeleteUsersArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Measure the server: seed profiles, drive HTTP load per scenario, compare with ceilings.
    Bench(crate::bench::BenchArgs),
    /// Manage apps (tenants).
    #[command(subcommand)]
    Apps(AppsCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage an app's access levels (`premium` always exists).
    #[command(subcommand)]
    AccessLevels(AccessLevelsCommand),
    /// Map store products to access levels.
    #[command(subcommand)]
    Products(ProductsCommand),
    /// Exchange rates to US dollars, for revenue charged in other currencies.
    #[command(subcommand)]
    Currencies(CurrenciesCommand),
}

#[derive(Debug, Subcommand)]
pub enum CurrenciesCommand {
    /// Set how many US dollars one unit of a currency is worth: transactions that arrive from
    /// now on count their revenue (`total_revenue_usd`, `price_usd`) at this rate.
    Set {
        #[arg(long = "app")]
        app_id: String,
        /// ISO 4217 code, e.g. EUR.
        #[arg(long)]
        currency: String,
        /// US dollars per unit, e.g. 1.08.
        #[arg(long = "usd-per-unit")]
        usd_per_unit: f64,
    },
    /// Stop converting a currency: its later transactions count no revenue in USD.
    Remove {
        #[arg(long = "app")]
        app_id: String,
        #[arg(long)]
        currency: String,
    },
    /// List an app's rates.
    List {
        #[arg(long = "app")]
        app_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccessLevelsCommand {
    /// Define an access level.
    Add {
        #[arg(long = "app")]
        app_id: String,
        #[arg(long)]
        id: String,
    },
    /// List an app's access levels.
    List {
        #[arg(long = "app")]
        app_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProductsCommand {
    /// Map (store, product id) to an access level; an unmapped product grants `premium`.
    Set {
        #[arg(long = "app")]
        app_id: String,
        #[arg(long)]
        store: String,
        #[arg(long = "product-id")]
        product_id: String,
        #[arg(long = "access-level")]
        access_level: String,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ENTITLE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Bearer token of the admin API (`/admin/v1/`); without one the admin API is off.
    #[arg(long, env = "ENTITLE_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Do not run the webhook worker in this process.
    #[arg(long)]
    pub no_worker: bool,
    /// Requests per minute per API key (token bucket with a second's burst); 0 turns it off.
    #[arg(long, env = "ENTITLE_RATE_LIMIT_PER_MINUTE", default_value_t = entitle_api::DEFAULT_RATE_LIMIT_PER_MINUTE)]
    pub rate_limit_per_minute: u32,
    /// Longest a request may take (reading its body included) before it is answered 503.
    #[arg(long, env = "ENTITLE_REQUEST_TIMEOUT", default_value = "30s", value_parser = crate::config::parse_timeout)]
    pub request_timeout: std::time::Duration,
    /// A connection with no request in progress (idle between requests, or still sending a
    /// request's head) is closed after this.
    #[arg(long, env = "ENTITLE_IDLE_TIMEOUT", default_value = "60s", value_parser = crate::config::parse_timeout)]
    pub idle_timeout: std::time::Duration,
    #[command(flatten)]
    pub worker: WorkerArgs,
}

#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// Wait before the first retry of a failed delivery; each next retry waits twice as long.
    #[arg(long, env = "ENTITLE_WEBHOOK_RETRY_BASE", default_value = "1m", value_parser = crate::config::parse_duration)]
    pub webhook_retry_base: std::time::Duration,
    /// Retries after the first attempt.
    #[arg(long, env = "ENTITLE_WEBHOOK_MAX_RETRIES", default_value_t = 9)]
    pub webhook_max_retries: u32,
    /// No answer within this is a failed attempt.
    #[arg(long, env = "ENTITLE_WEBHOOK_TIMEOUT", default_value = "10s", value_parser = crate::config::parse_duration)]
    pub webhook_timeout: std::time::Duration,
    /// How long a worker's claim on a delivery lasts; a worker that dies holding one is taken
    /// over after this. Kept at least three times the timeout.
    #[arg(long, env = "ENTITLE_WEBHOOK_LEASE", default_value = "60s", value_parser = crate::config::parse_duration)]
    pub webhook_lease: std::time::Duration,
    /// Allow webhook URLs on loopback and private addresses (tests, private networks).
    #[arg(long, env = "ENTITLE_WEBHOOK_ALLOW_PRIVATE_TARGETS")]
    pub webhook_allow_private_targets: bool,
}

impl WorkerArgs {
    pub fn config(&self) -> entitle_webhooks::WorkerConfig {
        let mut config = entitle_webhooks::WorkerConfig::default();
        config.retry.first_retry = self.webhook_retry_base;
        config.retry.max_retries = self.webhook_max_retries;
        config.timeout = self.webhook_timeout;
        config.lease = self.webhook_lease.max(self.webhook_timeout * 3);
        config.targets.allow_private = self.webhook_allow_private_targets;
        config
    }
}

#[derive(Debug, Args)]
pub struct DeleteUsersArgs {
    /// Base URL of the server, e.g. http://127.0.0.1:8080 or https://api.adapty.io
    #[arg(long)]
    pub url: String,
    /// Secret API key (`secret_live_…`).
    #[arg(long, env = "ENTITLE_API_KEY", hide_env_values = true)]
    pub api_key: String,
    /// One id per line; blank lines and lines starting with # are skipped.
    #[arg(long)]
    pub file: std::path::PathBuf,
    /// What the ids are.
    #[arg(long, value_enum, default_value = "customer-user-id")]
    pub by: delete_users::By,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Where outcomes are appended (default: the file's name with `.results.jsonl`); a second
    /// run with the same file skips what is already done.
    #[arg(long)]
    pub results: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Add a webhook integration; prints its id and signing secret (shown once).
    Add {
        #[arg(long = "app")]
        app_id: String,
        #[arg(long)]
        url: String,
        /// Sent verbatim as the `Authorization` header of every delivery.
        #[arg(long)]
        authorization: Option<String>,
        /// Only events of this environment (default: both).
        #[arg(long, value_parser = ["production", "sandbox"])]
        environment: Option<String>,
        /// Only these event types, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        events: Option<Vec<String>>,
    },
    /// List webhook integrations.
    List {
        #[arg(long = "app")]
        app_id: Option<String>,
    },
    /// Remove an integration; its pending deliveries are cancelled.
    Remove {
        #[arg(long = "integration")]
        integration_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppsCommand {
    /// Create an app and its first secret key (shown once).
    Create {
        #[arg(long)]
        name: String,
    },
    /// List apps.
    List,
    /// Set the policy for sharing paid access between profiles on one store account.
    SetSharing {
        #[arg(long = "app")]
        app_id: String,
        #[arg(long, value_parser = ["production", "sandbox"])]
        environment: String,
        #[arg(long, value_parser = ["enabled", "transfer", "disabled"])]
        policy: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create another secret key for an app (shown once).
    Create {
        #[arg(long = "app")]
        app_id: String,
    },
    /// Revoke a key; it stops working at once, also on running servers.
    Revoke {
        #[arg(long = "key")]
        key_id: String,
    },
}

/// Runs a parsed command line.
pub async fn execute(cli: Cli) -> anyhow::Result<()> {
    let GlobalArgs {
        database_url, json, ..
    } = cli.global;
    match cli.command {
        Command::Serve(args) => serve::serve(database_url, args).await,
        Command::Worker(args) => serve::worker(database_url, args).await,
        Command::DeleteUsers(args) => {
            delete_users::run(delete_users::Options {
                url: args.url,
                api_key: args.api_key,
                file: args.file,
                by: args.by,
                concurrency: args.concurrency,
                results: args.results,
                json,
            })
            .await
        }
        Command::Webhooks(WebhooksCommand::Add {
            app_id,
            url,
            authorization,
            environment,
            events,
        }) => {
            let request = webhooks::AddRequest {
                app_id,
                url,
                authorization,
                environment,
                events,
            };
            webhooks::add(&database_url, request, json).await
        }
        Command::Webhooks(WebhooksCommand::List { app_id }) => {
            webhooks::list(&database_url, app_id.as_deref(), json).await
        }
        Command::Webhooks(WebhooksCommand::Remove { integration_id }) => {
            webhooks::remove(&database_url, &integration_id, json).await
        }
        Command::Migrate => serve::migrate(&database_url).await,
        Command::Bench(args) => crate::bench::run(database_url, args, json).await,
        Command::Apps(AppsCommand::Create { name }) => {
            apps::create(&database_url, &name, json).await
        }
        Command::Apps(AppsCommand::List) => apps::list(&database_url, json).await,
        Command::Apps(AppsCommand::SetSharing {
            app_id,
            environment,
            policy,
        }) => config::set_sharing(&database_url, &app_id, &environment, &policy, json).await,
        Command::AccessLevels(AccessLevelsCommand::Add { app_id, id }) => {
            config::add_access_level(&database_url, &app_id, &id, json).await
        }
        Command::AccessLevels(AccessLevelsCommand::List { app_id }) => {
            config::list_access_levels(&database_url, &app_id, json).await
        }
        Command::Products(ProductsCommand::Set {
            app_id,
            store,
            product_id,
            access_level,
        }) => {
            config::set_product(
                &database_url,
                &app_id,
                &store,
                &product_id,
                &access_level,
                json,
            )
            .await
        }
        Command::Currencies(CurrenciesCommand::Set {
            app_id,
            currency,
            usd_per_unit,
        }) => {
            config::set_exchange_rate(&database_url, &app_id, &currency, usd_per_unit, json).await
        }
        Command::Currencies(CurrenciesCommand::Remove { app_id, currency }) => {
            config::remove_exchange_rate(&database_url, &app_id, &currency, json).await
        }
        Command::Currencies(CurrenciesCommand::List { app_id }) => {
            config::list_exchange_rates(&database_url, &app_id, json).await
        }
        Command::Keys(KeysCommand::Create { app_id }) => {
            keys::create(&database_url, &app_id, json).await
        }
        Command::Keys(KeysCommand::Revoke { key_id }) => {
            keys::revoke(&database_url, &key_id, json).await
        }
    }
}
