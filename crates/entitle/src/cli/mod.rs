//! The `entitle` command line.

pub mod apps;
mod config;
pub mod keys;
mod output;
pub mod serve;

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
    /// Serve the API.
    Serve(ServeArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate,
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
        Command::Serve(args) => serve::serve(database_url, args.listen).await,
        Command::Migrate => serve::migrate(&database_url).await,
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
        Command::Keys(KeysCommand::Create { app_id }) => {
            keys::create(&database_url, &app_id, json).await
        }
        Command::Keys(KeysCommand::Revoke { key_id }) => {
            keys::revoke(&database_url, &key_id, json).await
        }
    }
}
