//! The command line of the `dma` binary: serve (default), migrate, seed, openapi, token, clients.

use clap::{Parser, Subcommand};

use crate::app;
use crate::auth::{MissingSecret, Role, TokenKeys};
use crate::config::Config;
use crate::db::audit::Actor;
use crate::domain::organisation::OdsCode;
use crate::service::clients::{NewClient, create_client, revoke_client};
use crate::state::AppState;
use crate::{db, seed, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "dma",
    version,
    about = "NHS digital maturity assessment service"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (the default): migrations and reference data are applied first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load reference data (organisations, the seeded framework) idempotently.
    Seed {
        /// Also load the three synthetic demo rounds (skipped if they exist).
        #[arg(long, conflicts_with = "synthetic")]
        demo: bool,
        /// Instead, make a national-scale synthetic data set: GP practices and social care
        /// providers added in the real ICBs until `--organisations` are open, and the three demo
        /// rounds with a return for each (on a database without the demo rounds).
        #[arg(long)]
        synthetic: bool,
        /// How many organisations the national data set has in all (with `--synthetic`).
        #[arg(long, default_value_t = 25_000, requires = "synthetic",
              value_parser = clap::value_parser!(u32).range(1..=150_000))]
        organisations: u32,
        /// The generator's seed (with `--synthetic`; default: the demo's).
        #[arg(long, requires = "synthetic")]
        seed: Option<u64>,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Mint a bearer token signed with the configured key.
    Token {
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// An organisation the token may act for (repeatable; submitters).
        #[arg(long = "org")]
        orgs: Vec<String>,
        /// Lifetime: seconds, or with a unit (`90s`, `15m`, `8h`, `1d`).
        #[arg(long, default_value = "1h", value_parser = parse_ttl)]
        ttl: i64,
        /// The token's subject.
        #[arg(long, default_value = "cli")]
        subject: String,
    },
    /// Print a single-use link that signs a person in to the web front end (`/app`); it lasts
    /// ten minutes and is spent on first use.
    LoginLink {
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// An organisation the person acts for (repeatable; submitters must name at least one).
        #[arg(long = "org")]
        orgs: Vec<String>,
        /// Who the person is, as the audit trail will name them (default: `login-link:` and a
        /// random suffix, so two people never share a name or an allowance).
        #[arg(long)]
        subject: Option<String>,
    },
    /// Manage API clients.
    Clients {
        #[command(subcommand)]
        action: ClientsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Create a client; prints its id and secret (shown once).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long = "org")]
        orgs: Vec<String>,
    },
    /// List clients.
    List,
    /// Revoke a client.
    Revoke { id: String },
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| format!("`{raw}` is not a role (admin, analyst, submitter)"))
}

/// Parses `3600`, `90s`, `15m`, `8h`, `1d` into seconds (1 s to 30 days).
pub fn parse_ttl(raw: &str) -> Result<i64, String> {
    let raw = raw.trim();
    let (digits, unit) = match raw.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => raw.split_at(i),
        None => (raw, "s"),
    };
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("`{raw}` is not a duration"))?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit in `{raw}` (s, m, h, d)")),
    };
    let secs = n.saturating_mul(factor);
    if !(1..=30 * 86_400).contains(&secs) {
        return Err("the lifetime must be between 1 second and 30 days".into());
    }
    Ok(secs)
}

/// Runs the command line; returns the process exit code.
pub fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    telemetry::init(config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let state = AppState::init(config)?;
            load_reference(&state)?;
            if state.config.load_demo && !state.config.is_postgres() {
                let mut conn = state.pool.get()?;
                if db::rounds::count(&mut conn)? == 0 {
                    load_demo(&mut conn)?;
                }
            }
            actix_web::rt::System::new().block_on(app::serve(state))?;
        }
        Command::Migrate => {
            let pool = db::build_pool(&config.database_url, 1)?;
            let mut conn = pool.get()?;
            let applied = db::run_migrations(&mut conn)?;
            println!("{applied} migration(s) applied");
        }
        Command::Seed {
            demo,
            synthetic,
            organisations,
            seed,
        } => {
            let state = AppState::init(config)?;
            load_reference(&state)?;
            let mut conn = state.pool.get()?;
            if demo {
                load_demo(&mut conn)?;
            }
            if synthetic {
                let started = std::time::Instant::now();
                let seed = seed.unwrap_or(crate::demo::DEMO_SEED);
                let report = seed::demo::load_synthetic(&mut conn, organisations as usize, seed)?;
                println!(
                    "synthetic national data set: {} rounds, {} returns ({} submitted) for {} \
                     organisations, seed {seed}, in {:.1} s",
                    report.rounds_added,
                    report.returns_added,
                    report.submitted,
                    organisations,
                    started.elapsed().as_secs_f64()
                );
            }
        }
        Command::Openapi => {
            println!("{}", app::openapi().to_pretty_json()?);
        }
        Command::Token {
            role,
            orgs,
            ttl,
            subject,
        } => {
            for o in &orgs {
                OdsCode::parse(o)?;
            }
            let keys = TokenKeys::load(&config, MissingSecret::Refuse)?;
            println!("{}", keys.mint(&subject, None, role, orgs, ttl)?);
        }
        Command::LoginLink {
            role,
            orgs,
            subject,
        } => {
            let state = AppState::init(config)?;
            let mut conn = state.pool.get()?;
            let subject = subject.unwrap_or_else(|| {
                format!("login-link:{}", &crate::web::session::random_hex()[..8])
            });
            let token = crate::web::login_link(&mut conn, &subject, role, &orgs)?;
            println!("{}/app/login/{token}", state.config.public_url);
            eprintln!(
                "(valid for {} minutes, once; open it in a browser to sign in as {})",
                crate::web::LOGIN_LINK_MINUTES,
                role.as_str()
            );
        }
        Command::Clients { action } => {
            let state = AppState::init(config)?;
            let mut conn = state.pool.get()?;
            clients_command(&mut conn, action)?;
        }
    }
    Ok(())
}

fn load_reference(state: &AppState) -> Result<(), Box<dyn std::error::Error>> {
    let mut conn = state.pool.get()?;
    let report = seed::load_reference_data(&mut conn)?;
    tracing::info!(
        organisations_added = report.organisations_added,
        lineage_links_added = report.lineage_links_added,
        "reference data loaded"
    );
    Ok(())
}

fn load_demo(conn: &mut db::DbConnection) -> Result<(), Box<dyn std::error::Error>> {
    let started = std::time::Instant::now();
    let report = seed::demo::load_demo(conn)?;
    if report.rounds_added == 0 {
        tracing::info!("demo rounds already present");
        return Ok(());
    }
    tracing::info!(
        rounds = report.rounds_added,
        returns = report.returns_added,
        submitted = report.submitted,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "synthetic demo rounds loaded (DMA_DEMO=false turns this off)"
    );
    Ok(())
}

fn clients_command(
    conn: &mut db::DbConnection,
    action: ClientsCommand,
) -> Result<(), Box<dyn std::error::Error>> {
    match action {
        ClientsCommand::Create { name, role, orgs } => {
            let input = NewClient {
                name,
                role,
                organisations: orgs,
            };
            let created = create_client(conn, &Actor::system("cli"), &input)?;
            println!("client_id:     {}", created.client.client_id);
            println!("client_secret: {}", created.client_secret);
            println!("(the secret is shown once; only its hash is stored)");
        }
        ClientsCommand::List => {
            for c in db::clients::list(conn)? {
                let status = if c.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    c.id,
                    c.role,
                    status,
                    c.name,
                    c.organisation_codes()?.join(",")
                );
            }
        }
        ClientsCommand::Revoke { id } => {
            let c = revoke_client(conn, &Actor::system("cli"), &id)?;
            println!("revoked {}", c.client_id);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_parse_with_units() {
        assert_eq!(parse_ttl("3600"), Ok(3600));
        assert_eq!(parse_ttl("15m"), Ok(900));
        assert_eq!(parse_ttl("1d"), Ok(86_400));
        assert!(parse_ttl("0").is_err());
        assert!(parse_ttl("5y").is_err());
        assert!(parse_ttl("abc").is_err());
    }
}
